using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Ddpm.Imaging;

/// <summary>
/// Renders a run at a glance as a PNG: the training loss per step (log scale; raw in grey, smoothed in
/// blue) and, when present, FCD against the step where it was measured (red).
/// </summary>
internal static class TrainingPlot
{
    private static readonly Rgb24 Background = new(255, 255, 255), Axis = new(60, 60, 60), Grid = new(225, 225, 225),
        Raw = new(190, 190, 190), Smooth = new(30, 90, 200), Fcd = new(200, 40, 40);

    public static void Save(string path, IReadOnlyList<(long Step, double Loss)> loss, IReadOnlyList<(long Step, double Fcd)> fcd)
    {
        const int width = 900, panelHeight = 300;
        int panels = fcd.Count > 0 ? 2 : 1;
        using var image = new Image<Rgb24>(width, panels * panelHeight, Background);
        long maxStep = Math.Max(1, Math.Max(loss.Count > 0 ? loss[^1].Step : 1, fcd.Count > 0 ? fcd.Max(f => f.Step) : 1));
        var finite = loss.Where(l => double.IsFinite(l.Loss) && l.Loss > 0).ToList();
        if (finite.Count > 0)
        {
            var panel = new Panel(image, 0, width, panelHeight, maxStep, finite.Min(l => l.Loss), finite.Max(l => l.Loss), log: true);
            panel.Frame("loss", "step");
            foreach (var (step, value) in finite) panel.Dot(step, value, Raw);
            // Centred moving average: follows the curve without the lag of an exponential average.
            int half = Math.Max(1, finite.Count / 200);
            var prefix = new double[finite.Count + 1];
            for (int i = 0; i < finite.Count; i++) prefix[i + 1] = prefix[i] + Math.Log(finite[i].Loss);
            (long, double)? previous = null;
            for (int i = 0; i < finite.Count; i++)
            {
                int lo = Math.Max(0, i - half), hi = Math.Min(finite.Count, i + half + 1);
                double smooth = Math.Exp((prefix[hi] - prefix[lo]) / (hi - lo)); // geometric mean: the axis is logarithmic
                if (previous is { } p) panel.Line(p.Item1, p.Item2, finite[i].Step, smooth, Smooth);
                previous = (finite[i].Step, smooth);
            }
        }
        if (fcd.Count > 0)
        {
            double hi = fcd.Max(f => f.Fcd);
            var panel = new Panel(image, panelHeight, width, panelHeight, maxStep, 0, hi <= 0 ? 1 : hi * 1.05, log: false);
            panel.Frame("FCD", "step");
            for (int i = 0; i < fcd.Count; i++)
            {
                panel.Dot(fcd[i].Step, fcd[i].Fcd, Fcd, 3);
                if (i > 0) panel.Line(fcd[i - 1].Step, fcd[i - 1].Fcd, fcd[i].Step, fcd[i].Fcd, Fcd);
            }
        }
        ImageGrid.SavePng(image, path);
    }

    private sealed class Panel(Image<Rgb24> image, int top, int width, int height, long maxStep, double lo, double hi, bool log)
    {
        private const int Left = 80, Right = 20, Top = 20, Bottom = 40;
        private readonly double _lo = log ? Math.Log10(lo) : lo;
        private readonly double _hi = log ? Math.Log10(hi) + (hi == lo ? 0.1 : 0) : hi + (hi == lo ? 1 : 0);

        private int X(long step) => Left + (int)Math.Round((double)step / maxStep * (width - Left - Right));

        private int Y(double v)
        {
            double u = ((log ? Math.Log10(v) : v) - _lo) / (_hi - _lo);
            return top + Top + (int)Math.Round((1 - u) * (height - Top - Bottom));
        }

        public void Frame(string yLabel, string xLabel)
        {
            int x0 = Left, x1 = width - Right, y0 = top + Top, y1 = top + height - Bottom;
            for (int i = 0; i <= 4; i++)
            {
                int y = y0 + i * (y1 - y0) / 4;
                for (int x = x0; x <= x1; x++) image[x, y] = Grid;
                double value = log ? Math.Pow(10, _hi - i * (_hi - _lo) / 4) : _hi - i * (_hi - _lo) / 4;
                var label = value.ToString(Math.Abs(value) >= 100 ? "F0" : Math.Abs(value) >= 1 ? "F2" : "0.0000", CultureInfo.InvariantCulture);
                PixelFont.Draw(image, label, x0 - 6 - PixelFont.Width(label, 2), y - 5, Axis);
            }
            for (int i = 0; i <= 5; i++)
            {
                int x = x0 + i * (x1 - x0) / 5;
                for (int y = y0; y <= y1; y++) image[x, y] = Grid;
                var label = (maxStep * i / 5).ToString(CultureInfo.InvariantCulture);
                PixelFont.Draw(image, label, x - PixelFont.Width(label, 2) / 2, y1 + 8, Axis);
            }
            for (int x = x0; x <= x1; x++) image[x, y1] = Axis;
            for (int y = y0; y <= y1; y++) image[x0, y] = Axis;
            PixelFont.Draw(image, yLabel, 8, y0 - 14, Axis);
            PixelFont.Draw(image, xLabel, x1 - PixelFont.Width(xLabel, 2), y1 + 24, Axis);
        }

        public void Dot(long step, double v, Rgb24 color, int radius = 0)
        {
            int cx = X(step), cy = Y(v);
            for (int dy = -radius; dy <= radius; dy++)
                for (int dx = -radius; dx <= radius; dx++)
                    Set(cx + dx, cy + dy, color);
        }

        /// <summary>Bresenham's line between two data points.</summary>
        public void Line(long s0, double v0, long s1, double v1, Rgb24 color)
        {
            int x0 = X(s0), y0 = Y(v0), x1 = X(s1), y1 = Y(v1);
            int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
            while (true)
            {
                Set(x0, y0, color);
                Set(x0, y0 + 1, color);
                if (x0 == x1 && y0 == y1) break;
                int e2 = 2 * err;
                if (e2 >= dy) { err += dy; x0 += sx; }
                if (e2 <= dx) { err += dx; y0 += sy; }
            }
        }

        private void Set(int x, int y, Rgb24 color)
        {
            if (x >= Left && x < width - Right + 1 && y >= top + Top && y <= top + height - Bottom) image[x, y] = color;
        }
    }
}
