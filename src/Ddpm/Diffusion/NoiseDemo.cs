using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// The forward-process figure: each row one clean image, each column x_t at a chosen t (eq. 4). The same
/// ε is used in every column and for every schedule, so differences come from ᾱ_t alone.
/// </summary>
public static class NoiseDemo
{
    /// <param name="images">[R, 1, H, W] clean images in [-1, 1].</param>
    /// <returns>[S·R·C, 1, H, W] tiles, row-major for a grid of C = ts.Count columns; one block of R rows per schedule.</returns>
    public static Tensor Build(Tensor images, IReadOnlyList<NoiseSchedule> schedules, IReadOnlyList<int> ts, Generator generator)
    {
        foreach (var s in schedules)
            foreach (var t in ts)
                if (t < 0 || t > s.T) throw new DdpmException($"t = {t} is outside 0..{s.T} (T of the {s.Name} schedule)");
        long rows = images.shape[0], cols = ts.Count;
        var noise = randn(images.shape, generator: generator);
        var tiles = new List<Tensor>();
        foreach (var schedule in schedules)
        {
            using var process = new GaussianDiffusion(schedule);
            var steps = tensor(ts.Select(t => (long)t).ToArray());
            for (long r = 0; r < rows; r++)
            {
                var x0 = images[r].unsqueeze(0).expand(cols, -1, -1, -1);
                var eps = noise[r].unsqueeze(0).expand(cols, -1, -1, -1);
                tiles.Add(process.QSample(x0, steps, eps).clamp(-1, 1));
            }
        }
        return cat(tiles, 0);
    }
}
