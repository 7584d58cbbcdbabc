using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>
/// An <see cref="ImageGrid"/> with a header over each column and a label beside each block of rows, so that a figure read
/// alone says what it shows (noise-demo: the t of each column, the noise type and schedule of each block).
/// </summary>
internal static class LabelledGrid
{
    private static readonly Rgb24 Background = new(255, 255, 255), Ink = new(30, 30, 30);

    /// <param name="tiles">[N, C, H, W] in [-1, 1] (C = 1 or 3), row-major, <paramref name="columns"/> per row.</param>
    /// <param name="columnLabels">One per column.</param>
    /// <param name="blocks">(label, rows) from the top; a label may have several lines separated by '\n'.</param>
    public static Image<Rgb24> Render(Tensor tiles, int columns, IReadOnlyList<string> columnLabels,
        IReadOnlyList<(string Label, int Rows)> blocks, int scale = 1, int padding = 2)
    {
        if (columnLabels.Count != columns) throw new ArgumentException($"{columnLabels.Count} column labels for {columns} columns", nameof(columnLabels));
        int rows = blocks.Sum(b => b.Rows), n = (int)tiles.shape[0];
        if (rows * columns != n) throw new ArgumentException($"blocks of {rows} rows x {columns} columns for {n} tiles", nameof(blocks));
        using var rendered = ImageGrid.Render(tiles, columns, padding, scale);
        using var grid = rendered.CloneAs<Rgb24>();
        int tileW = ((int)tiles.shape[3] + padding) * scale, tileH = ((int)tiles.shape[2] + padding) * scale;
        // The font's scale, at most the grid's, so that the widest column label fits over its tile (small tiles, e.g. 16 px).
        int font = Math.Max(1, Math.Min(scale, tileW / Math.Max(1, columnLabels.Max(l => PixelFont.Width(l, 1)))));
        int line = PixelFont.Height(font) + 2 * font;
        int top = line + 2 * font;
        int left = blocks.SelectMany(b => b.Label.Split('\n')).Max(l => PixelFont.Width(l, font)) + 3 * font;
        var image = new Image<Rgb24>(left + grid.Width, top + grid.Height, Background);
        image.ProcessPixelRows(grid, (dst, src) =>
        {
            for (int y = 0; y < src.Height; y++)
            {
                src.GetRowSpan(y).CopyTo(dst.GetRowSpan(top + y)[left..]);
            }
        });
        for (int c = 0; c < columns; c++)
        {
            var text = columnLabels[c];
            int centre = left + padding * scale + c * tileW + tileW / 2;
            PixelFont.Draw(image, text, centre - PixelFont.Width(text, font) / 2, font, Ink, font);
        }
        int rowStart = 0;
        foreach (var (label, blockRows) in blocks)
        {
            var lines = label.Split('\n');
            int y = top + padding * scale + rowStart * tileH + (blockRows * tileH - lines.Length * line) / 2;
            foreach (var text in lines)
            {
                PixelFont.Draw(image, text, font, y, Ink, font);
                y += line;
            }
            rowStart += blockRows;
        }
        return image;
    }

    /// <summary>An <see cref="ImageGrid"/> with a title line over it (e.g. the schedule and noise type of a comparison row).</summary>
    public static Image<Rgb24> Titled(Tensor tiles, string title, int columns = 0, int scale = 1, int padding = 2)
    {
        using var rendered = ImageGrid.Render(tiles, columns, padding, scale);
        using var grid = rendered.CloneAs<Rgb24>();
        int font = Math.Max(1, scale), top = PixelFont.Height(font) + 4 * font;
        var image = new Image<Rgb24>(Math.Max(grid.Width, PixelFont.Width(title, font) + 2 * font), top + grid.Height, Background);
        image.ProcessPixelRows(grid, (dst, src) =>
        {
            for (int y = 0; y < src.Height; y++) src.GetRowSpan(y).CopyTo(dst.GetRowSpan(top + y));
        });
        PixelFont.Draw(image, title, font, 2 * font, Ink, font);
        return image;
    }

    public static void SaveTitled(Tensor tiles, string path, string title, int columns = 0, int scale = 1)
    {
        using var image = Titled(tiles, title, columns, scale);
        ImageGrid.SavePng(image, path);
    }

    /// <summary>The first character the labels' pixel font cannot draw, or null when it can draw them all.</summary>
    public static char? FirstUnsupported(string text) => text.Select(c => (char?)c).FirstOrDefault(c => !PixelFont.CanDraw(c!.Value));

    public static void Save(Tensor tiles, string path, int columns, IReadOnlyList<string> columnLabels,
        IReadOnlyList<(string Label, int Rows)> blocks, int scale = 1)
    {
        using var image = Render(tiles, columns, columnLabels, blocks, scale);
        ImageGrid.SavePng(image, path);
    }
}
