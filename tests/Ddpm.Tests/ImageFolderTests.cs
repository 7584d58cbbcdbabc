using Ddpm.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Training data from a folder of image files: class folders, sizes, channels and unreadable files.</summary>
public class ImageFolderTests
{
    public ImageFolderTests() => TestSupport.Init();

    /// <summary>A w×h image whose pixel (x, y) is <paramref name="pixel"/>(x, y).</summary>
    internal static void Write(string path, int w, int h, Func<int, int, Rgb24> pixel)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) image[x, y] = pixel(x, y);
        image.SaveAsPng(path);
    }

    private static Rgb24 Gray(byte v) => new(v, v, v);

    [Fact]
    public void Class_folders_become_sorted_labels_and_unreadable_files_are_skipped_with_the_reason()
    {
        var dir = TestSupport.TempDir();
        Write(Path.Combine(dir, "zebra", "1.png"), 8, 8, (x, y) => Gray(x == 0 && y == 0 ? (byte)255 : (byte)0));
        Write(Path.Combine(dir, "ant", "2.png"), 8, 8, (_, _) => Gray(0));
        Write(Path.Combine(dir, "ant", "1.png"), 8, 8, (_, _) => Gray(255));
        File.WriteAllText(Path.Combine(dir, "zebra", "broken.png"), "not a png");
        File.WriteAllText(Path.Combine(dir, "zebra", "notes.txt"), "ignored: not an image extension");
        var result = ImageFolder.Load(dir);
        using var data = result.Data;
        Assert.Equal(["ant", "zebra"], result.ClassNames);
        Assert.Equal(new long[] { 3, 1, 8, 8 }, data.Images.shape);
        // Files in ordinal order: ant/1, ant/2, zebra/1 (zebra/broken skipped).
        Assert.Equal(new long[] { 0, 0, 1 }, data.Labels.data<long>().ToArray());
        Assert.Equal(1f, data.Images[0].min().item<float>());
        Assert.Equal(-1f, data.Images[1].max().item<float>());
        Assert.Equal(1f, data.Images[2, 0, 0, 0].item<float>());
        Assert.Equal(-1f, data.Images[2, 0, 0, 1].item<float>());
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal(Path.Combine("zebra", "broken.png"), skipped.File);
        Assert.False(string.IsNullOrWhiteSpace(skipped.Reason));
    }

    [Fact]
    public void Colour_is_kept_as_rgb_planes_unless_one_channel_is_asked_for()
    {
        var dir = TestSupport.TempDir();
        Write(Path.Combine(dir, "red.png"), 4, 4, (_, _) => new Rgb24(255, 0, 0));
        Write(Path.Combine(dir, "gray.png"), 4, 4, (_, _) => Gray(128));
        var colour = ImageFolder.Load(dir);
        using (var data = colour.Data)
        {
            Assert.Empty(colour.ClassNames);
            Assert.Equal(new long[] { 2, 3, 4, 4 }, data.Images.shape);
            var red = data.Images[1]; // gray.png sorts first
            Assert.Equal([1f, -1f, -1f], Enumerable.Range(0, 3).Select(c => red[c].mean().item<float>()));
        }
        using var gray = ImageFolder.Load(dir, channels: 1).Data;
        Assert.Equal(new long[] { 2, 1, 4, 4 }, gray.Images.shape);
        // ImageSharp's luminance of pure red (Rec. 709: 0.2126 · 255 = 54) → 54/127.5 − 1.
        Assert.Equal(54 / 127.5 - 1, gray.Images[1, 0, 0, 0].item<float>(), 2);
    }

    [Fact]
    public void Sizes_must_agree_unless_an_image_size_is_given_which_resizes_and_centre_crops()
    {
        var dir = TestSupport.TempDir();
        Write(Path.Combine(dir, "a.png"), 8, 8, (_, _) => Gray(0));
        // 16 × 8: a white left half and a black right half, around a centre column pair.
        Write(Path.Combine(dir, "b.png"), 16, 8, (x, _) => Gray(x < 8 ? (byte)255 : (byte)0));
        var e = Assert.Throws<DdpmException>(() => ImageFolder.Load(dir));
        Assert.Contains("a.png is 8x8", e.Message);
        Assert.Contains("b.png 16x8", e.Message);
        Assert.Contains("--image-size", e.Message);
        using var data = ImageFolder.Load(dir, imageSize: 4).Data;
        Assert.Equal(new long[] { 2, 1, 4, 4 }, data.Images.shape);
        // b: shorter side 8 → 4 (the long side 16 → 8), then the centre 4 columns: white on the left, black on the right.
        var b = data.Images[1, 0];
        Assert.True(b[.., 0].mean().item<float>() > 0.9);
        Assert.True(b[.., 3].mean().item<float>() < -0.9);
    }

    [Fact]
    public void Bad_folders_are_clear_errors()
    {
        var empty = TestSupport.TempDir();
        Assert.Contains("no image files", Assert.Throws<DdpmException>(() => ImageFolder.Load(empty)).Message);
        var mixed = TestSupport.TempDir();
        Write(Path.Combine(mixed, "loose.png"), 4, 4, (_, _) => Gray(0));
        Write(Path.Combine(mixed, "cat", "1.png"), 4, 4, (_, _) => Gray(0));
        Assert.Contains("both directly (loose.png) and in class folders", Assert.Throws<DdpmException>(() => ImageFolder.Load(mixed)).Message);
        var broken = TestSupport.TempDir();
        File.WriteAllText(Path.Combine(broken, "x.png"), "nope");
        Assert.Contains("none of its 1 image files could be read", Assert.Throws<DdpmException>(() => ImageFolder.Load(broken)).Message);
        Assert.Contains("data folder not found", Assert.Throws<DdpmException>(() => ImageFolder.Load(Path.Combine(empty, "missing"))).Message);
        Assert.Contains("no test split", Assert.Throws<DdpmException>(() => DataSources.Load(mixed, DatasetSplit.Test)).Message);
    }
}
