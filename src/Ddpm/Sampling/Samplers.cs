using Ddpm.Diffusion;
using Ddpm.Schedules;
using Ddpm.Training;

namespace Ddpm.Sampling;

/// <summary>Picks the sampler that fits a checkpoint's noise process.</summary>
public static class Samplers
{
    public static ISampler ForConfig(DiffusionConfig diffusion, SigmaKind sigma = SigmaKind.Beta) =>
        diffusion.Noise switch
        {
            GaussianDiffusion.ProcessName => new AncestralSampler(NoiseSchedule.Create(diffusion.Schedule, diffusion.Timesteps), sigma),
            _ => throw new DdpmException($"no sampler for noise type '{diffusion.Noise}'"),
        };
}
