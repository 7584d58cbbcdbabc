using Ddpm.Diffusion;
using Ddpm.Schedules;
using Ddpm.Training;

namespace Ddpm.Sampling;

/// <summary>How to sample: a sampler kind (null = the checkpoint's noise type's own) with its settings.</summary>
public sealed record SamplerOptions
{
    public static readonly IReadOnlyList<string> Names = ["ddpm", "ddim", "gamma", "cold"];
    /// <summary>ddpm, ddim, gamma or cold; null picks the one that fits the noise type.</summary>
    public string? Kind { get; init; }
    public SigmaKind Sigma { get; init; } = SigmaKind.Beta;
    /// <summary>Steps for ddim, gamma and cold (0 = all T).</summary>
    public int Steps { get; init; }
    public double Eta { get; init; }
    /// <summary>DDIM: clamp x̂_0 to [-1, 1] at every step.</summary>
    public bool ClipX0 { get; init; }
}

/// <summary>Picks the sampler that fits a checkpoint's noise process, and refuses combinations that do not fit.</summary>
public static class Samplers
{
    /// <summary>The sampler a noise type uses when none is asked for.</summary>
    public static string DefaultFor(string noise) => noise switch
    {
        GaussianDiffusion.ProcessName => "ddpm",
        GammaDiffusion.ProcessName => "gamma",
        _ => "cold",
    };

    /// <summary>One line for progress messages, e.g. "DDIM, 50 steps, η = 0".</summary>
    public static string Describe(ISampler sampler) => sampler switch
    {
        AncestralSampler a => $"DDPM ancestral, σ² = {(a.Sigma == SigmaKind.Beta ? "beta" : "beta-tilde")}",
        DdimSampler d => $"DDIM, {d.Steps} steps, η = {d.Eta}{(d.ClipX0 ? ", x̂_0 clipped" : "")}",
        GammaSampler g => $"gamma (DDGM), {g.Steps} steps",
        ColdSampler c => $"cold diffusion ({c.Process.Name}), {c.Steps} steps",
        _ => sampler.GetType().Name,
    };

    public static ISampler ForConfig(DiffusionConfig diffusion, SamplerOptions? options = null)
    {
        options ??= new SamplerOptions();
        var process = NoiseProcesses.Create(diffusion);
        var kind = options.Kind ?? DefaultFor(diffusion.Noise);
        var allowed = diffusion.Noise == GaussianDiffusion.ProcessName ? new[] { "ddpm", "ddim" } : [DefaultFor(diffusion.Noise)];
        if (!SamplerOptions.Names.Contains(kind))
            throw new DdpmException($"unknown sampler '{kind}' (choose from {string.Join(", ", SamplerOptions.Names)})");
        if (!allowed.Contains(kind))
            throw new DdpmException($"--sampler {kind} does not fit a checkpoint trained with {diffusion.Noise} noise (use {string.Join(" or ", allowed)})");
        if (kind is "gamma" or "cold" && options.Eta != 0) throw new DdpmException("--eta applies to --sampler ddim only");
        if (kind != "ddim" && options.ClipX0) throw new DdpmException("--clip-x0 applies to --sampler ddim only");
        var schedule = process.Schedule;
        return kind switch
        {
            "ddpm" when options.Steps is 0 || options.Steps == schedule.T => new AncestralSampler(schedule, options.Sigma),
            "ddpm" => throw new DdpmException($"the ddpm sampler always takes all T = {schedule.T} steps; use --sampler ddim for {options.Steps}"),
            "ddim" => new DdimSampler(schedule, options.Steps == 0 ? schedule.T : options.Steps, options.Eta, options.ClipX0),
            "gamma" => new GammaSampler((GammaDiffusion)process, options.Steps),
            _ => new ColdSampler((ColdDiffusion)process, options.Steps),
        };
    }
}
