using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace Ddpm.Data;

/// <summary>
/// A folder of image files (whatever ImageSharp 2.1 decodes: PNG, JPEG, BMP, GIF, TGA, TIFF, WebP) as a dataset held in memory.
/// Images in subfolders are labelled by their first-level folder, the class names sorted ordinally (as torchvision's
/// ImageFolder sorts them); images directly in the folder are unlabelled. Converted once: resized so the shorter side is the
/// image size and centre-cropped, grayscale or RGB, scaled to [-1, 1]. Unreadable files are skipped and reported.
/// </summary>
internal static class ImageFolder
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".tif", ".tiff", ".webp" };

    /// <summary>The dataset, its class names (empty when unlabelled), the files skipped with the reason, and warnings.</summary>
    public sealed record Result(ImageDataset Data, IReadOnlyList<string> ClassNames, IReadOnlyList<(string File, string Reason)> Skipped, IReadOnlyList<string> Warnings);

    /// <summary>Classes with fewer images than this get a warning: a class of one image teaches the model that one image.</summary>
    public const int FewImagesPerClass = 10;

    /// <summary>Whether a folder holds image files (directly or in subfolders).</summary>
    public static bool HasImages(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Any(f => Extensions.Contains(Path.GetExtension(f)));

    /// <param name="imageSize">Side of the square images; null = the images' own size when they are all the same square size.</param>
    /// <param name="channels">1 (grayscale) or 3 (RGB); null = 1 when every image is grayscale, else 3.</param>
    /// <param name="subset">Keep only the first N readable images in file order (0 = all).</param>
    public static Result Load(string directory, int? imageSize = null, int? channels = null, int subset = 0)
    {
        if (!Directory.Exists(directory)) throw new DdpmException($"{directory}: data folder not found");
        if (imageSize is < 1) throw new DdpmException($"image size must be >= 1, got {imageSize}");
        if (channels is not (null or 1 or 3)) throw new DdpmException($"channels must be 1 or 3, got {channels}");
        var root = Path.GetFullPath(directory);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f)))
            .Select(f => Path.GetRelativePath(root, f))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new DdpmException($"{directory}: no image files ({string.Join(", ", Extensions.Order())})");
        static string? ClassOf(string relative) => relative.Contains(Path.DirectorySeparatorChar) ? relative[..relative.IndexOf(Path.DirectorySeparatorChar)] : null;
        bool labelled = files.Any(f => ClassOf(f) is not null);
        if (labelled && files.FirstOrDefault(f => ClassOf(f) is null) is { } loose)
            throw new DdpmException($"{directory}: holds images both directly ({loose}) and in class folders; put every image in a class folder, or none");
        var classNames = labelled ? files.Select(f => ClassOf(f)!).Distinct().Order(StringComparer.Ordinal).ToList() : [];

        var skipped = new List<(string, string)>();
        var decoded = new List<(string File, Image<Rgb24> Image)>();
        try
        {
            foreach (var file in files)
            {
                if (subset > 0 && decoded.Count == subset) break;
                try { decoded.Add((file, Image.Load<Rgb24>(Path.Combine(root, file)))); }
                catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException or IOException)
                {
                    skipped.Add((file, e.Message.Split('\n')[0].Trim().TrimEnd('.')));
                }
            }
            if (decoded.Count == 0) throw new DdpmException($"{directory}: none of its {files.Count} image files could be read (first: {skipped[0].Item1}: {skipped[0].Item2})");

            int size = imageSize ?? CommonSize(directory, decoded);
            int c = channels ?? (decoded.All(d => IsGray(d.Image)) ? 1 : 3);
            var pixels = new byte[decoded.Count * c * size * size];
            var labels = new long[decoded.Count];
            for (int i = 0; i < decoded.Count; i++)
            {
                var image = decoded[i].Image;
                if (image.Width != size || image.Height != size)
                    image.Mutate(x => x.Resize(new ResizeOptions { Size = new SixLabors.ImageSharp.Size(size, size), Mode = ResizeMode.Crop, Position = AnchorPositionMode.Center }));
                CopyPlanes(image, pixels.AsSpan(i * c * size * size, c * size * size), c);
                labels[i] = labelled ? classNames.IndexOf(ClassOf(decoded[i].File)!) : 0;
            }
            var warnings = new List<string>();
            if (labelled)
            {
                var perClass = classNames.Select(name => (name, count: decoded.Count(d => ClassOf(d.File) == name))).ToList();
                if (perClass.Where(p => p.count == 0).Select(p => p.name).ToList() is { Count: > 0 } empty)
                    warnings.Add($"class folder(s) with no readable image: {string.Join(", ", empty)} (the model learns nothing for them)");
                if (perClass.Where(p => p.count is > 0 and < FewImagesPerClass).ToList() is { Count: > 0 } few)
                    warnings.Add($"class folder(s) with fewer than {FewImagesPerClass} images: {string.Join(", ", few.Select(p => $"{p.name} ({p.count})"))} (samples of them will copy those images)");
            }
            using var scope = NewDisposeScope();
            var x = tensor(pixels, [decoded.Count, c, size, size], ScalarType.Byte).to(ScalarType.Float32).div_(127.5).sub_(1.0);
            var data = ImageDataset.FromTensors(x, tensor(labels), directory);
            return new Result(data, classNames, skipped, warnings);
        }
        finally
        {
            foreach (var (_, image) in decoded) image.Dispose();
        }
    }

    private static int CommonSize(string directory, List<(string File, Image<Rgb24> Image)> images)
    {
        var first = images[0];
        if (images.FirstOrDefault(d => d.Image.Width != first.Image.Width || d.Image.Height != first.Image.Height || d.Image.Width != d.Image.Height) is { File: not null } odd)
            throw new DdpmException($"{directory}: the images are not all the same square size ({first.File} is {first.Image.Width}x{first.Image.Height}, " +
                                    $"{odd.File} {odd.Image.Width}x{odd.Image.Height}); give --image-size to resize and centre-crop them");
        return first.Image.Width;
    }

    private static bool IsGray(Image<Rgb24> image)
    {
        bool gray = true;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height && gray; y++)
                foreach (var p in rows.GetRowSpan(y))
                    if (p.R != p.G || p.G != p.B) { gray = false; break; }
        });
        return gray;
    }

    /// <summary>Channel planes [C, H, W]: RGB, or the luminance (ImageSharp's L8 conversion, Rec. 709 weights) for one channel.</summary>
    private static void CopyPlanes(Image<Rgb24> image, Span<byte> planes, int channels)
    {
        int w = image.Width, h = image.Height;
        if (channels == 1)
        {
            using var gray = image.CloneAs<L8>();
            gray.CopyPixelDataTo(planes);
            return;
        }
        var rgb = new byte[w * h * 3];
        image.CopyPixelDataTo(rgb);
        for (int i = 0; i < w * h; i++)
            for (int k = 0; k < 3; k++) planes[k * w * h + i] = rgb[i * 3 + k];
    }
}
