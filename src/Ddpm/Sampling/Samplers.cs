using Ddpm.Diffusion;
using Ddpm.Schedules;
using Ddpm.Training;

namespace Ddpm.Sampling;

/// <summary>How to sample: DDPM's ancestral rule or DDIM, with their settings.</summary>
public sealed record SamplerOptions
{
    public static readonly IReadOnlyList<string> Names = ["ddpm", "ddim"];
    public string Kind { get; init; } = "ddpm";
    public SigmaKind Sigma { get; init; } = SigmaKind.Beta;
    /// <summary>DDIM steps (0 = all T).</summary>
    public int Steps { get; init; }
    public double Eta { get; init; }
}

/// <summary>Picks the sampler that fits a checkpoint's noise process.</summary>
public static class Samplers
{
    public static ISampler ForConfig(DiffusionConfig diffusion, SamplerOptions? options = null)
    {
        options ??= new SamplerOptions();
        if (diffusion.Noise != GaussianDiffusion.ProcessName)
            throw new DdpmException($"no sampler for noise type '{diffusion.Noise}'");
        var schedule = NoiseSchedule.Create(diffusion.Schedule, diffusion.Timesteps);
        return options.Kind switch
        {
            "ddpm" when options.Steps is 0 || options.Steps == schedule.T => new AncestralSampler(schedule, options.Sigma),
            "ddpm" => throw new DdpmException($"the ddpm sampler always takes all T = {schedule.T} steps; use --sampler ddim for {options.Steps}"),
            "ddim" => new DdimSampler(schedule, options.Steps == 0 ? schedule.T : options.Steps, options.Eta),
            _ => throw new DdpmException($"unknown sampler '{options.Kind}' (choose from {string.Join(", ", SamplerOptions.Names)})"),
        };
    }
}
