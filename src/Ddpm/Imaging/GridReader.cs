using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>
/// Reads the tiles back out of a PNG grid written by <see cref="ImageGrid"/> (28×28 tiles, 2-pixel padding,
/// any integer scale). Empty slots at the end of the last row are skipped. Returns [N, 1, 28, 28] in [-1, 1].
/// </summary>
public static class GridReader
{
    public static Tensor Load(string path, int tile = 28, int padding = 2)
    {
        if (!File.Exists(path)) throw new DdpmException($"{path}: file not found");
        Image<L8> image;
        try { image = Image.Load<L8>(path); }
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
            int count = 0;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                {
                    var tilePixels = new byte[tile * tile];
                    for (int y = 0; y < tile; y++)
                        for (int x = 0; x < tile; x++)
                            tilePixels[y * tile + x] = image[(padding + c * (tile + padding) + x) * scale, (padding + r * (tile + padding) + y) * scale].PackedValue;
                    if (tilePixels.All(p => p == ImageGrid.PaddingValue)) continue; // empty slot
                    pixels.AddRange(tilePixels);
                    count++;
                }
            if (count == 0) throw new DdpmException($"{path}: the grid holds no images");
            return tensor(pixels.ToArray(), [count, 1, tile, tile], ScalarType.Byte).to(ScalarType.Float32).div_(127.5).sub_(1.0);
        }
    }
}
