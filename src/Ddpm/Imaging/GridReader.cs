using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>
/// Reads the tiles back out of a PNG grid written by <see cref="ImageGrid"/> (square tiles, 2-pixel padding,
/// any integer scale). Empty slots at the end of the last row are skipped. Returns [N, C, tile, tile] in [-1, 1].
/// </summary>
internal static class GridReader
{
    /// <param name="channels">1: the grid's gray levels (a colour grid is converted to luminance); 3: RGB.</param>
    public static Tensor Load(string path, int tile = 28, int padding = 2, int channels = 1)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"channels must be 1 or 3, got {channels}", nameof(channels));
        if (!File.Exists(path)) throw new DdpmException($"{path}: file not found");
        Image<Rgb24> image;
        try
        {
            using var decoded = Image.Load(path);
            image = channels == 1 ? Gray(decoded) : decoded.CloneAs<Rgb24>();
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            throw new DdpmException($"{path}: not a readable image ({e.Message})");
        }
        using (image)
        {
            int w = image.Width, h = image.Height;
            int scale = Enumerable.Range(1, 8).FirstOrDefault(s =>
                w % s == 0 && h % s == 0 && (w / s - padding) % (tile + padding) == 0 && (h / s - padding) % (tile + padding) == 0
                && w / s > padding && h / s > padding);
            if (scale == 0)
                throw new DdpmException($"{path}: {w}x{h} pixels is not a whole number of {tile}x{tile} tiles with {padding}-pixel padding at any scale 1-8");
            int columns = (w / scale - padding) / (tile + padding), rows = (h / scale - padding) / (tile + padding);
            var pixels = new List<byte>();
            int count = 0, plane = tile * tile;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                {
                    var tilePixels = new byte[channels * plane]; // [C, tile, tile]
                    for (int y = 0; y < tile; y++)
                        for (int x = 0; x < tile; x++)
                        {
                            var p = image[(padding + c * (tile + padding) + x) * scale, (padding + r * (tile + padding) + y) * scale];
                            tilePixels[y * tile + x] = p.R;
                            if (channels == 3) { tilePixels[plane + y * tile + x] = p.G; tilePixels[2 * plane + y * tile + x] = p.B; }
                        }
                    if (tilePixels.All(p => p == ImageGrid.PaddingValue)) continue; // empty slot
                    pixels.AddRange(tilePixels);
                    count++;
                }
            if (count == 0) throw new DdpmException($"{path}: the grid holds no images");
            return tensor(pixels.ToArray(), [count, channels, tile, tile], ScalarType.Byte).to(ScalarType.Float32).div_(127.5).sub_(1.0);
        }
    }

    /// <summary>Luminance as ImageSharp's L8 conversion computes it, stored in all three channels.</summary>
    private static Image<Rgb24> Gray(Image decoded)
    {
        using var gray = decoded.CloneAs<L8>();
        return gray.CloneAs<Rgb24>();
    }
}
