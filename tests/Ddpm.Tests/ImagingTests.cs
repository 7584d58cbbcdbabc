using System.IO.Compression;
using System.Text;
using Ddpm.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class ImagingTests
{
    public ImagingTests() => TestSupport.Init();

    [Fact]
    public void Grid_places_tiles_row_major_with_padding_and_maps_minus_one_to_black()
    {
        using var scope = NewDisposeScope();
        var images = stack([full(new long[] { 1, 2, 3 }, -1f), full(new long[] { 1, 2, 3 }, 1f), full(new long[] { 1, 2, 3 }, 0f)]);
        var path = Path.Combine(TestSupport.TempDir(), "g.png");
        ImageGrid.Save(images, path, columns: 2, padding: 1);
        using var png = Image.Load<L8>(path);
        Assert.Equal(2 * (3 + 1) + 1, png.Width);
        Assert.Equal(2 * (2 + 1) + 1, png.Height);
        Assert.Equal(ImageGrid.PaddingValue, png[0, 0].PackedValue);
        Assert.Equal(0, png[1, 1].PackedValue);     // tile 0 (−1)
        Assert.Equal(255, png[5, 1].PackedValue);   // tile 1 (+1), second column
        Assert.Equal(128, png[1, 4].PackedValue);   // tile 2 (0 → round(127.5) = 128), second row
        Assert.Equal(ImageGrid.PaddingValue, png[5, 4].PackedValue); // empty slot
    }

    [Fact]
    public void Labelled_grid_keeps_the_grid_and_writes_a_label_over_each_column_and_beside_each_block()
    {
        using var scope = NewDisposeScope();
        var tiles = linspace(-1, 1, 6 * 28 * 28).view(6, 1, 28, 28);
        using var plain = ImageGrid.Render(tiles, columns: 3, scale: 2).CloneAs<Rgb24>();
        using var image = LabelledGrid.Render(tiles, 3, ["t=0", "t=5", "t=100"], [("gaussian\nlinear", 1), ("mask", 1)], scale: 2);
        int left = image.Width - plain.Width, top = image.Height - plain.Height;
        Assert.True(left > 0 && top > 0);
        for (int y = 0; y < plain.Height; y += 7)
            for (int x = 0; x < plain.Width; x += 7)
                Assert.Equal(plain[x, y], image[left + x, top + y]); // the grid itself, unchanged, bottom right
        bool Ink(int x0, int y0, int x1, int y1)
        {
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    if (image[x, y].R < 128) return true;
            return false;
        }
        int tile = (28 + 2) * 2;
        for (int c = 0; c < 3; c++) Assert.True(Ink(left + 4 + c * tile, 0, left + 4 + (c + 1) * tile, top), $"no header over column {c}");
        for (int b = 0; b < 2; b++) Assert.True(Ink(0, top + 4 + b * tile, left, top + 4 + (b + 1) * tile), $"no label beside block {b}");
        Assert.Throws<ArgumentException>(() => LabelledGrid.Render(tiles, 3, ["t=0"], [("a", 2)]));
        Assert.Throws<ArgumentException>(() => LabelledGrid.Render(tiles, 3, ["a", "b", "c"], [("a", 3)]));
    }

    [Fact]
    public void Npz_holds_arr_0_as_uint8_nhwc_in_numpy_format()
    {
        using var scope = NewDisposeScope();
        var images = arange(2 * 1 * 3 * 4, dtype: ScalarType.Float32).reshape(2, 1, 3, 4) / 11.5f - 1;
        var path = Path.Combine(TestSupport.TempDir(), "s.npz");
        NpzWriter.Save(images, path);

        using var zip = ZipFile.OpenRead(path);
        var entry = Assert.Single(zip.Entries);
        Assert.Equal("arr_0.npy", entry.FullName);
        using var s = new MemoryStream();
        entry.Open().CopyTo(s);
        var bytes = s.ToArray();
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.StartsWith("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 4, 1), }", header);
        Assert.EndsWith("\n", header);
        var data = bytes[(10 + headerLength)..];
        Assert.Equal(24, data.Length);
        var expected = ImageBytes.ToBytes(images); // C = 1: NCHW and NHWC orders coincide
        Assert.Equal(expected, data);
        Assert.Equal(0, data[0]);
        Assert.Equal(255, data[23]);
    }

    [Fact]
    public void Unwritable_paths_are_clear_errors()
    {
        var e = Assert.Throws<DdpmException>(() => OutputPath.EnsureWritable("/proc/forbidden/x.png"));
        Assert.Contains("/proc/forbidden/x.png: cannot write", e.Message);
        var dir = TestSupport.TempDir();
        Assert.Contains("is a folder", Assert.Throws<DdpmException>(() => OutputPath.EnsureWritable(dir)).Message);
    }
}
