using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Ddpm.Data;

/// <summary>
/// A colour dataset ddpm makes itself, so that a colour example needs no download: PNGs of one filled shape (circle, square,
/// triangle) per image in class folders, each shape with a random saturated colour, size, position and (triangles, squares)
/// rotation on a dark, nearly gray background. Edges are anti-aliased by 4×4 supersampling. (A first version also drew light
/// backgrounds and smaller shapes: after 5 minutes of training its samples were blobs, the background taking most pixels.)
/// </summary>
internal static class ShapesDataset
{
    public static readonly IReadOnlyList<string> Classes = ["circle", "square", "triangle"];

    /// <param name="count">Images in all, shared equally by the classes (rounded up).</param>
    /// <returns>The number of files written.</returns>
    public static int Write(string directory, int count = 3000, int size = 16, int seed = 0)
    {
        if (count < Classes.Count) throw new DdpmException($"shapes: at least {Classes.Count} images are needed (one per class), got {count}");
        if (size is < 8 or > 512) throw new DdpmException($"shapes: image size must be in 8..512, got {size}");
        var random = new Random(seed);
        int perClass = (count + Classes.Count - 1) / Classes.Count, written = 0;
        try
        {
            foreach (var name in Classes) Directory.CreateDirectory(Path.Combine(directory, name));
            for (int i = 0; i < perClass; i++)
                for (int k = 0; k < Classes.Count; k++)
                {
                    using var image = Draw(k, size, random);
                    image.SaveAsPng(Path.Combine(directory, Classes[k], $"{i:D5}.png"));
                    written++;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DdpmException($"{directory}: cannot write the shapes ({e.Message})");
        }
        return written;
    }

    /// <summary>One image of class <paramref name="shape"/> (an index into <see cref="Classes"/>).</summary>
    public static Image<Rgb24> Draw(int shape, int size, Random random)
    {
        var ink = FromHsv(random.NextDouble() * 360, 0.7 + 0.3 * random.NextDouble(), 0.75 + 0.25 * random.NextDouble());
        var paper = FromHsv(random.NextDouble() * 360, 0.2 * random.NextDouble(), 0.05 + 0.15 * random.NextDouble());
        double radius = size * (0.28 + 0.17 * random.NextDouble());                   // circumradius
        double cx = radius + (size - 2 * radius) * random.NextDouble(), cy = radius + (size - 2 * radius) * random.NextDouble();
        double angle = random.NextDouble() * 2 * Math.PI;
        Func<double, double, bool> inside = shape switch
        {
            0 => (x, y) => (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius,
            1 => Polygon(cx, cy, radius, angle, 4),
            2 => Polygon(cx, cy, radius, angle, 3),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        var image = new Image<Rgb24>(size, size);
        const int sub = 4;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int hits = 0;
                for (int sy = 0; sy < sub; sy++)
                    for (int sx = 0; sx < sub; sx++)
                        if (inside(x + (sx + 0.5) / sub, y + (sy + 0.5) / sub)) hits++;
                double a = hits / (double)(sub * sub);
                image[x, y] = new Rgb24(Mix(paper.R, ink.R, a), Mix(paper.G, ink.G, a), Mix(paper.B, ink.B, a));
            }
        return image;
    }

    /// <summary>Inside test of a regular n-gon with circumradius r: on the inner side of every edge.</summary>
    private static Func<double, double, bool> Polygon(double cx, double cy, double r, double angle, int n)
    {
        var vx = new double[n];
        var vy = new double[n];
        for (int i = 0; i < n; i++)
        {
            vx[i] = cx + r * Math.Cos(angle + 2 * Math.PI * i / n);
            vy[i] = cy + r * Math.Sin(angle + 2 * Math.PI * i / n);
        }
        return (x, y) =>
        {
            for (int i = 0; i < n; i++)
            {
                int j = (i + 1) % n;
                if ((vx[j] - vx[i]) * (y - vy[i]) - (vy[j] - vy[i]) * (x - vx[i]) < 0) return false;
            }
            return true;
        };
    }

    private static byte Mix(byte from, byte to, double a) => (byte)Math.Round(from + (to - from) * a);

    private static Rgb24 FromHsv(double h, double s, double v)
    {
        double c = v * s, hp = h / 60, x = c * (1 - Math.Abs(hp % 2 - 1)), m = v - c;
        var (r, g, b) = hp switch { < 1 => (c, x, 0.0), < 2 => (x, c, 0.0), < 3 => (0.0, c, x), < 4 => (0.0, x, c), < 5 => (x, 0.0, c), _ => (c, 0.0, x) };
        return new Rgb24((byte)Math.Round(255 * (r + m)), (byte)Math.Round(255 * (g + m)), (byte)Math.Round(255 * (b + m)));
    }
}
