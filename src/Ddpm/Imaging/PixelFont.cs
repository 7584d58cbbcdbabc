using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Ddpm.Imaging;

/// <summary>
/// A 3×5 bitmap font for plot labels: digits, a few signs and the letters the plots use. ImageSharp 2's
/// text rendering lives in ImageSharp.Drawing, which is not available to this project.
/// </summary>
internal static class PixelFont
{
    private static readonly Dictionary<char, string[]> Glyphs = new()
    {
        ['0'] = ["###", "#.#", "#.#", "#.#", "###"], ['1'] = [".#.", "##.", ".#.", ".#.", "###"],
        ['2'] = ["###", "..#", "###", "#..", "###"], ['3'] = ["###", "..#", ".##", "..#", "###"],
        ['4'] = ["#.#", "#.#", "###", "..#", "..#"], ['5'] = ["###", "#..", "###", "..#", "###"],
        ['6'] = ["###", "#..", "###", "#.#", "###"], ['7'] = ["###", "..#", ".#.", ".#.", ".#."],
        ['8'] = ["###", "#.#", "###", "#.#", "###"], ['9'] = ["###", "#.#", "###", "..#", "###"],
        ['.'] = ["...", "...", "...", "...", ".#."], ['-'] = ["...", "...", "###", "...", "..."],
        [' '] = ["...", "...", "...", "...", "..."], [':'] = ["...", ".#.", "...", ".#.", "..."],
        ['(']= [".#.", "#..", "#..", "#..", ".#."], [')'] = [".#.", "..#", "..#", "..#", ".#."],
        ['a'] = ["...", "##.", ".##", "#.#", "###"], ['c'] = ["...", "###", "#..", "#..", "###"],
        ['e'] = ["...", "###", "###", "#..", "###"], ['h'] = ["#..", "#..", "###", "#.#", "#.#"],
        ['i'] = [".#.", "...", ".#.", ".#.", ".#."], ['l'] = ["##.", ".#.", ".#.", ".#.", "###"],
        ['m'] = ["...", "###", "###", "#.#", "#.#"], ['n'] = ["...", "##.", "#.#", "#.#", "#.#"],
        ['o'] = ["...", "###", "#.#", "#.#", "###"], ['p'] = ["...", "###", "#.#", "###", "#.."],
        ['r'] = ["...", "###", "#..", "#..", "#.."], ['s'] = ["...", "###", "##.", "..#", "###"],
        ['t'] = [".#.", "###", ".#.", ".#.", ".##"], ['u'] = ["...", "#.#", "#.#", "#.#", "###"],
        ['C'] = ["###", "#..", "#..", "#..", "###"], ['D'] = ["##.", "#.#", "#.#", "#.#", "##."],
        ['F'] = ["###", "#..", "###", "#..", "#.."], ['N'] = ["#.#", "###", "###", "#.#", "#.#"],
        ['='] = ["...", "###", "...", "###", "..."],
    };

    public static int Width(string text, int scale) => text.Length * 4 * scale;

    public static void Draw(Image<Rgb24> image, string text, int x, int y, Rgb24 color, int scale = 2)
    {
        foreach (var ch in text)
        {
            if (Glyphs.TryGetValue(ch, out var rows))
                for (int r = 0; r < 5; r++)
                    for (int c = 0; c < 3; c++)
                        if (rows[r][c] == '#')
                            for (int dy = 0; dy < scale; dy++)
                                for (int dx = 0; dx < scale; dx++)
                                {
                                    int px = x + c * scale + dx, py = y + r * scale + dy;
                                    if (px >= 0 && py >= 0 && px < image.Width && py < image.Height) image[px, py] = color;
                                }
            x += 4 * scale;
        }
    }
}
