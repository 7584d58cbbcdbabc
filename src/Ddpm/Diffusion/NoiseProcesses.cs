using Ddpm.Schedules;
using Ddpm.Training;

namespace Ddpm.Diffusion;

/// <summary>Builds the noise process a config names.</summary>
public static class NoiseProcesses
{
    public static readonly IReadOnlyList<string> Names = [GaussianDiffusion.ProcessName];

    public static INoiseProcess Create(DiffusionConfig config)
    {
        var schedule = NoiseSchedule.Create(config.Schedule, config.Timesteps);
        return config.Noise switch
        {
            GaussianDiffusion.ProcessName => new GaussianDiffusion(schedule),
            _ => throw new DdpmException($"unknown noise type '{config.Noise}' (choose from {string.Join(", ", Names)})"),
        };
    }
}
