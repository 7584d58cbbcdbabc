using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>Reads a user's image as a model input: the model's channels (gray or RGB), resized to its size, in [-1, 1].</summary>
internal static class InputImage
{
    /// <param name="channels">1: converted to luminance (ImageSharp's L8, Rec. 709 weights); 3: RGB.</param>
    /// <returns>[1, C, size, size] in [-1, 1], and a note for each conversion made (empty if none).</returns>
    public static (Tensor Image, IReadOnlyList<string> Notes) Load(string path, int size, int channels = 1)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"channels must be 1 or 3, got {channels}", nameof(channels));
        if (!File.Exists(path)) throw new DdpmException($"{path}: file not found");
        Image<Rgba32> image;
        try { image = Image.Load<Rgba32>(path); }
        catch (UnknownImageFormatException) { throw new DdpmException($"{path}: not a readable image (unknown format)"); }
        catch (Exception e) when (e is InvalidImageContentException or NotSupportedException)
        {
            // ImageSharp's messages can span lines; the error must stay one line.
            throw new DdpmException($"{path}: not a readable image ({e.Message.Split('\n')[0].Trim().TrimEnd('.')})");
        }
        catch (IOException e) { throw new DdpmException($"{path}: cannot read ({e.Message})"); }

        using (image)
        {
            var notes = new List<string>();
            bool colour = false;
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height && !colour; y++)
                    foreach (var p in rows.GetRowSpan(y))
                        if (p.R != p.G || p.G != p.B) { colour = true; break; }
            });
            if (colour && channels == 1) notes.Add("converted colour to grayscale");
            if (image.Width != size || image.Height != size)
            {
                notes.Add($"resized {image.Width}x{image.Height} to {size}x{size}");
                image.Mutate(x => x.Resize(size, size));
            }
            if (channels == 1)
            {
                using var gray = image.CloneAs<L8>();
                var bytes = new byte[size * size];
                gray.CopyPixelDataTo(bytes);
                return (torch.tensor(bytes).to(ScalarType.Float32).reshape(1, 1, size, size) / 127.5 - 1, notes);
            }
            using var rgb = image.CloneAs<Rgb24>();
            var interleaved = new byte[size * size * 3];
            rgb.CopyPixelDataTo(interleaved);
            using var hwc = torch.tensor(interleaved).reshape(size, size, 3);
            return (hwc.permute(2, 0, 1).unsqueeze(0).to(ScalarType.Float32) / 127.5 - 1, notes);
        }
    }

    /// <summary>A mask image: white (≥ 50 % gray) = known, black = to fill. [1, 1, size, size] of 0/1.</summary>
    public static Tensor LoadMask(string path, int size)
    {
        var (image, _) = Load(path, size, channels: 1);
        using (image) return image.gt(0).to(ScalarType.Float32);
    }

    /// <summary>All pixels known except the rectangle (x, y, w, h) in image coordinates, which is to be filled.</summary>
    public static Tensor RectangleMask(int size, int x, int y, int w, int h)
    {
        if (w < 1 || h < 1 || x < 0 || y < 0 || x + w > size || y + h > size)
            throw new DdpmException($"mask rectangle {x},{y},{w},{h} must have w, h >= 1 and lie inside the {size}x{size} image");
        var mask = ones(1, 1, size, size);
        mask[.., .., TensorIndex.Slice(y, y + h), TensorIndex.Slice(x, x + w)] = zeros(1, 1, h, w);
        return mask;
    }
}
