using Ddpm.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>C = 3 through every image path: grids and their reader, .npz, GIF frames, labelled figures, input images.</summary>
public class ColourTests
{
    public ColourTests() => TestSupport.Init();

    /// <summary>Tile i is one colour: (r, g, b) of the table below in [-1, 1] (−1 → 0, 1 → 255, 0 → 128).</summary>
    private static readonly (float R, float G, float B)[] Colours = [(1, -1, -1), (-1, 1, -1), (-1, -1, 1), (1, 1, -1), (0, 1, 0)];

    private static Tensor Tiles(int h, int w) =>
        stack(Colours.Select(c => stack([full(new long[] { h, w }, c.R), full(new long[] { h, w }, c.G), full(new long[] { h, w }, c.B)])).ToArray());

    private static Rgb24 Byte(float r, float g, float b) => new(ToByte(r), ToByte(g), ToByte(b));
    private static byte ToByte(float v) => (byte)Math.Round((v + 1) * 127.5, MidpointRounding.AwayFromZero);

    [Fact]
    public void Colour_grid_is_rgb_with_each_tile_in_place_and_reads_back_exactly()
    {
        using var scope = NewDisposeScope();
        var tiles = Tiles(6, 6);
        var path = Path.Combine(TestSupport.TempDir(), "g.png");
        ImageGrid.Save(tiles, path, columns: 3, scale: 2);
        using (var png = Image.Load<Rgb24>(path))
        {
            Assert.Equal((3 * 8 + 2) * 2, png.Width);
            Assert.Equal((2 * 8 + 2) * 2, png.Height);
            for (int i = 0; i < Colours.Length; i++)
            {
                var (r, g, b) = Colours[i];
                Assert.Equal(Byte(r, g, b), png[(2 + i % 3 * 8 + 3) * 2, (2 + i / 3 * 8 + 3) * 2]);
            }
            Assert.Equal(new Rgb24(ImageGrid.PaddingValue, ImageGrid.PaddingValue, ImageGrid.PaddingValue), png[(2 + 2 * 8 + 3) * 2, (2 + 8 + 3) * 2]); // empty slot
        }
        var back = GridReader.Load(path, tile: 6, channels: 3);
        Assert.Equal(new long[] { 5, 3, 6, 6 }, back.shape);
        Assert.Equal(ImageBytes.ToBytes(tiles), ImageBytes.ToBytes(back));
        // Read as one channel: ImageSharp's luminance of pure red is 54 (Rec. 709: 0.2126 · 255).
        var gray = GridReader.Load(path, tile: 6, channels: 1);
        Assert.Equal(new long[] { 5, 1, 6, 6 }, gray.shape);
        Assert.Equal(54, ImageBytes.ToBytes(gray[0, 0, 0, 0])[0]);
    }

    [Fact]
    public void Colour_npz_is_n_h_w_c_with_channels_last_and_reads_back()
    {
        using var scope = NewDisposeScope();
        var images = rand(new long[] { 2, 3, 4, 5 }, generator: new Generator(1)) * 2 - 1;
        var path = Path.Combine(TestSupport.TempDir(), "s.npz");
        NpzWriter.Save(images, path);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
        {
            using var s = new MemoryStream();
            zip.GetEntry("arr_0.npy")!.Open().CopyTo(s);
            var bytes = s.ToArray();
            int header = BitConverter.ToUInt16(bytes, 8);
            Assert.Contains("'shape': (2, 4, 5, 3)", System.Text.Encoding.ASCII.GetString(bytes, 10, header));
            // Element [n=1, y=2, x=3, c=2] of the N×H×W×C array is image 1's blue plane at (2, 3).
            int offset = 10 + header + ((1 * 4 + 2) * 5 + 3) * 3 + 2;
            Assert.Equal(ToByte(images[1, 2, 2, 3].item<float>()), bytes[offset]);
        }
        var back = NpzReader.Load(path);
        Assert.Equal(new long[] { 2, 3, 4, 5 }, back.shape);
        Assert.Equal(ImageBytes.ToBytes(images), ImageBytes.ToBytes(back));
    }

    [Fact]
    public void Colour_gif_frames_keep_their_colours()
    {
        using var scope = NewDisposeScope();
        var first = Tiles(4, 4);
        var last = first.flip(0); // the same colours in reverse order
        var path = Path.Combine(TestSupport.TempDir(), "a.gif");
        AnimatedGif.Save([first, last], path, columns: 5);
        using var gif = Image.Load<Rgb24>(path);
        Assert.Equal(2, gif.Frames.Count);
        for (int i = 0; i < Colours.Length; i++)
        {
            var (r, g, b) = Colours[i];
            var (lr, lg, lb) = Colours[Colours.Length - 1 - i];
            int x = 2 + i * 6 + 1, y = 3;
            AssertClose(Byte(r, g, b), gif.Frames[0][x, y]);
            AssertClose(Byte(lr, lg, lb), gif.Frames[1][x, y]);
        }
    }

    // A GIF palette may round a colour by a level or two.
    private static void AssertClose(Rgb24 expected, Rgb24 actual)
    {
        Assert.True(Math.Abs(expected.R - actual.R) <= 2 && Math.Abs(expected.G - actual.G) <= 2 && Math.Abs(expected.B - actual.B) <= 2, $"expected {expected}, got {actual}");
    }

    [Fact]
    public void Labelled_colour_figure_keeps_the_tiles_colours()
    {
        using var scope = NewDisposeScope();
        var tiles = Tiles(6, 6).narrow(0, 0, 4);
        using var image = LabelledGrid.Render(tiles, 2, ["t=0", "t=9"], [("blur", 2)], scale: 1);
        int left = image.Width - (2 * 8 + 2), top = image.Height - (2 * 8 + 2);
        Assert.Equal(Byte(1, -1, -1), image[left + 2 + 3, top + 2 + 3]);
        Assert.Equal(Byte(-1, 1, -1), image[left + 2 + 8 + 3, top + 2 + 3]);
        Assert.Equal(Byte(1, 1, -1), image[left + 2 + 8 + 3, top + 2 + 8 + 3]);
    }

    [Fact]
    public void Input_images_keep_rgb_for_a_colour_model_and_become_luminance_for_a_gray_one()
    {
        var dir = TestSupport.TempDir();
        var path = Path.Combine(dir, "c.png");
        ImageFolderTests.Write(path, 4, 4, (x, _) => x < 2 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255));
        var (rgb, notes) = InputImage.Load(path, 4, channels: 3);
        Assert.Empty(notes);
        Assert.Equal(new long[] { 1, 3, 4, 4 }, rgb.shape);
        Assert.Equal([1f, -1f, -1f], Enumerable.Range(0, 3).Select(c => rgb[0, c, 0, 0].item<float>()));
        Assert.Equal([-1f, -1f, 1f], Enumerable.Range(0, 3).Select(c => rgb[0, c, 3, 3].item<float>()));
        var (gray, grayNotes) = InputImage.Load(path, 4, channels: 1);
        Assert.Equal(new long[] { 1, 1, 4, 4 }, gray.shape);
        Assert.Contains("converted colour to grayscale", grayNotes);
    }
}

/// <summary>Titles over sample grids (comparison figures say which row they are).</summary>
public class TitledGridTests
{
    public TitledGridTests() => TestSupport.Init();

    [Fact]
    public void A_titled_grid_is_the_grid_under_a_line_of_ink_and_unknown_characters_are_named()
    {
        using var scope = NewDisposeScope();
        var tiles = full(new long[] { 4, 1, 6, 6 }, 1f); // white tiles
        using var plain = ImageGrid.Render(tiles, 2, scale: 2).CloneAs<Rgb24>();
        using var image = LabelledGrid.Titled(tiles, "blur: fcd 12.5", 2, scale: 2);
        int top = image.Height - plain.Height;
        Assert.True(top > 0);
        for (int y = 0; y < plain.Height; y += 3)
            for (int x = 0; x < plain.Width; x += 3)
                Assert.Equal(plain[x, y], image[x, top + y]);
        bool ink = false;
        for (int y = 0; y < top; y++)
            for (int x = 0; x < image.Width; x++) ink |= image[x, y].R < 128;
        Assert.True(ink, "no title drawn");
        Assert.Null(LabelledGrid.FirstUnsupported("gaussian, cosine schedule: fcd 12.5"));
        Assert.Equal('Q', LabelledGrid.FirstUnsupported("Quality"));
    }
}
