using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// The forward-process figure: each row one clean image, each column the corrupted x_t at a chosen t, one block of rows
/// per noise process. Every tile of a row draws from a generator with the same seed, so Gaussian rows share one ε across
/// columns and schedules and differences come from ᾱ_t alone.
/// </summary>
internal static class NoiseDemo
{
    /// <summary>A block's label in the figure: the noise type, and the schedule for those that use one.</summary>
    public static string Label(Training.DiffusionConfig config) =>
        NoiseProcesses.UsesBetaSchedule(config.Noise) ? $"{config.Noise}\n{config.Schedule}" : config.Noise;

    /// <param name="images">[R, C, H, W] clean images in [-1, 1].</param>
    /// <returns>[P·R·K, C, H, W] tiles, row-major for a grid of K = ts.Count columns; one block of R rows per process.</returns>
    public static Tensor Build(Tensor images, IReadOnlyList<INoiseProcess> processes, IReadOnlyList<int> ts, long seed)
    {
        foreach (var p in processes)
            foreach (var t in ts)
                if (t < 0 || t > p.Schedule.T) throw new DdpmException($"t = {t} is outside 0..{p.Schedule.T} (T of {p.Name})");
        var tiles = new List<Tensor>();
        foreach (var process in processes)
            for (long r = 0; r < images.shape[0]; r++)
            {
                var x0 = images[r].unsqueeze(0);
                foreach (var t in ts)
                {
                    using var g = new Generator((ulong)(seed + r));
                    tiles.Add(process.TrainingPair(x0, tensor(new long[] { t }), g).Input.clamp(-1, 1));
                }
            }
        return cat(tiles, 0);
    }
}
