using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>Writes a batch of images as one PNG grid (row-major tiles separated by padding).</summary>
internal static class ImageGrid
{
    public const byte PaddingValue = 96;

    /// <param name="images">[N, C, H, W] in [-1, 1], C = 1 (grayscale) or 3 (RGB).</param>
    /// <param name="columns">Tiles per row; 0 = ⌈√N⌉.</param>
    /// <param name="scale">Integer upscaling of each pixel (nearest neighbour).</param>
    public static void Save(Tensor images, string path, int columns = 0, int padding = 2, int scale = 1)
    {
        using var image = Render(images, columns, padding, scale);
        SavePng(image, path);
    }

    /// <summary>The grid as an image (the caller disposes it): 8-bit gray for C = 1, RGB for C = 3; see <see cref="Save"/>.</summary>
    public static Image Render(Tensor images, int columns = 0, int padding = 2, int scale = 1)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new ArgumentException($"expected [N, 1 or 3, H, W] images, got [{string.Join(", ", images.shape)}]", nameof(images));
        int n = (int)images.shape[0], c = (int)images.shape[1], h = (int)images.shape[2], w = (int)images.shape[3];
        if (n == 0) throw new ArgumentException("no images to write", nameof(images));
        if (scale < 1) throw new DdpmException($"scale must be >= 1, got {scale}");
        if (padding < 0) throw new DdpmException($"padding must be >= 0, got {padding}");
        if (columns <= 0) columns = (int)Math.Ceiling(Math.Sqrt(n));
        columns = Math.Min(columns, n);
        var (width, height) = Size(n, h, w, columns, padding);
        byte[] pixels;
        using (var nhwc = images.permute(0, 2, 3, 1)) pixels = ImageBytes.ToBytes(nhwc); // interleaved channels, as ImageSharp stores them
        var canvas = new byte[width * height * c];
        Array.Fill(canvas, PaddingValue);
        int row = w * c;
        for (int i = 0; i < n; i++)
        {
            int top = padding + i / columns * (h + padding), left = padding + i % columns * (w + padding);
            for (int y = 0; y < h; y++)
                Array.Copy(pixels, (i * h + y) * row, canvas, ((top + y) * width + left) * c, row);
        }
        Image image = c == 1 ? Image.LoadPixelData<L8>(canvas, width, height) : Image.LoadPixelData<Rgb24>(canvas, width, height);
        if (scale > 1) image.Mutate(x => x.Resize(width * scale, height * scale, KnownResamplers.NearestNeighbor));
        return image;
    }

    /// <summary>Pixel size of a grid of <paramref name="n"/> tiles of h×w before scaling.</summary>
    public static (int Width, int Height) Size(int n, int h, int w, int columns, int padding)
    {
        int rows = (n + columns - 1) / columns;
        return (columns * (w + padding) + padding, rows * (h + padding) + padding);
    }

    internal static void SavePng(Image image, string path) => SaveAtomically(path, image.SaveAsPng);

    /// <summary>Writes beside and renames, so an interrupted write never leaves a truncated image.</summary>
    internal static void SaveAtomically(string path, Action<string> write)
    {
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var tmp = path + ".tmp";
            write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DdpmException($"{path}: cannot write ({e.Message})");
        }
    }
}
