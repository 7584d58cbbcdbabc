using Ddpm.Diffusion;
using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using Ddpm.Training;

namespace Ddpm.Sampling;

/// <summary>Picks the sampler that fits a checkpoint's noise process, and refuses combinations that do not fit.</summary>
internal static class Samplers
{
    /// <summary>Samplers for Gaussian noise; each takes ε̂ (any prediction type is converted to it).</summary>
    public static readonly IReadOnlyList<string> Gaussian = ["ddpm", "ddim", SamplerOptions.DpmSolverName];

    /// <summary>
    /// The sampler a checkpoint uses when none is asked for. Gaussian, chosen by FCD per second of sampling (BENCHMARKS.md):
    /// with classifier-free guidance (<paramref name="guided"/>) DDIM, <see cref="DefaultGuidedDdimSteps"/> steps, which ties
    /// DPM-Solver++(2M) 20 at half its model calls; without it DPM-Solver++(2M), <see cref="DefaultDpmSteps"/> steps, which
    /// beats DDIM there. Algorithm 2 as written stays available as <c>--sampler ddpm</c>.
    /// </summary>
    /// Gamma: the paper's Algorithm 2 with all T steps, its DDIM form (<see cref="GammaDdimSampler"/>) with fewer.
    public static string DefaultFor(DiffusionConfig diffusion, int steps = 0, bool guided = false) => diffusion.IsEdm ? SamplerOptions.HeunName : diffusion.Noise switch
    {
        GaussianDiffusion.ProcessName => guided ? "ddim" : SamplerOptions.DpmSolverName,
        GammaDiffusion.ProcessName => steps > 0 && steps < diffusion.Timesteps ? "ddim" : "gamma",
        _ => "cold",
    };

    /// <summary>The options with the default sampler filled in when none is named (see <see cref="DefaultFor"/>); its steps too
    /// when none are given and the default is guided DDIM (an explicit <c>ddim</c> without steps keeps all T).</summary>
    private static SamplerOptions WithDefault(DiffusionConfig diffusion, SamplerOptions options, bool guided)
    {
        if (options.Kind is not null) return options;
        var kind = DefaultFor(diffusion, options.Steps, guided);
        // A default ddim without steps is the guided Gaussian one (gamma's ddim is the default only when steps are given).
        return options with { Kind = kind, Steps = kind == "ddim" && options.Steps == 0 ? Math.Min(DefaultGuidedDdimSteps, diffusion.Timesteps) : options.Steps };
    }

    /// <summary>The samplers that fit a checkpoint's noise process.</summary>
    public static IReadOnlyList<string> AllowedFor(DiffusionConfig diffusion) => diffusion.IsEdm ? [SamplerOptions.HeunName] : diffusion.Noise switch
    {
        GaussianDiffusion.ProcessName => Gaussian,
        GammaDiffusion.ProcessName => ["gamma", "ddim"],
        _ => ["cold"],
    };

    /// <summary>One line for progress messages, e.g. "DDIM, 50 steps, η = 0".</summary>
    public static string Describe(ISampler sampler) => sampler switch
    {
        PredictionSampler p => $"{Describe(p.Inner)}, {p.Prediction.Name}-prediction",
        AncestralSampler a => $"DDPM ancestral, {a.Steps} steps, σ² = {(a.Sigma == SigmaKind.Beta ? "beta" : "beta-tilde")}{(a.ClipX0 ? ", x̂_0 clipped" : "")}",
        DdimSampler d => $"DDIM, {d.Steps} steps, η = {d.Eta}{(d.ClipX0 ? ", x̂_0 clipped" : "")}",
        DpmSolverSampler s => $"DPM-Solver++({s.Order}M), {s.Steps} steps{(s.ClipX0 ? ", x̂_0 clipped" : "")}",
        EdmSampler e => $"EDM Heun, {e.Levels} noise levels ({e.Steps} model calls){(e.Churn > 0 ? $", S_churn = {e.Churn}" : "")}",
        GammaSampler g => $"gamma (DDGM), {g.Steps} steps",
        GammaDdimSampler g => $"gamma DDIM (DDGM), {g.Steps} steps, η = {g.Eta}",
        ColdSampler c => $"cold diffusion ({c.Process.Name}), {c.Steps} steps",
        _ => sampler.GetType().Name,
    };

    /// <summary>dpm++2m's steps when none are given (its 0 means this, not all T).</summary>
    public const int DefaultDpmSteps = 20;

    /// <summary>The default DDIM's steps for guided sampling (BENCHMARKS.md, "DDIM with 10 calls ties the default").</summary>
    public const int DefaultGuidedDdimSteps = 10;

    /// <summary>The options that only one sampler reads, given for another: a usage error (the CLI calls this as soon as
    /// --sampler is named, before any checkpoint is loaded).</summary>
    public static void CheckOptions(string kind, SamplerOptions options)
    {
        if (kind != SamplerOptions.HeunName && options.Churn != 0) throw new DdpmUsageException("--churn applies to --sampler heun only");
        if (kind != "ddim" && options.Eta != 0) throw new DdpmUsageException("--eta applies to --sampler ddim only");
        if (!Gaussian.Contains(kind) && options.ClipX0) throw new DdpmUsageException($"--clip-x0 applies to --sampler {string.Join(", ", Gaussian)} only");
    }

    /// <summary>The sampler that <paramref name="options"/> select for a checkpoint; <paramref name="guided"/>: whether it will
    /// sample with classifier-free guidance (w &gt; 0), which changes the default.</summary>
    public static ISampler ForConfig(DiffusionConfig diffusion, SamplerOptions? options = null, bool guided = false)
    {
        options = WithDefault(diffusion, options ?? new SamplerOptions(), guided);
        var kind = options.Kind!;
        var allowed = AllowedFor(diffusion);
        if (!SamplerOptions.Names.Contains(kind))
            throw new DdpmException($"unknown sampler '{kind}' (choose from {string.Join(", ", SamplerOptions.Names)})");
        if (!allowed.Contains(kind))
            throw new DdpmException($"--sampler {kind} does not fit a checkpoint trained with {(diffusion.IsEdm ? "the edm objective" : $"{diffusion.Noise} noise")} (use {string.Join(" or ", allowed)})");
        CheckOptions(kind, options);
        if (options.StartPerturbation is { } p && (kind != "cold" || diffusion.ColdVersion < 2 || p < 0 || !double.IsFinite(p)))
            throw new DdpmException(kind != "cold" ? "--start-perturbation applies to blur and mask checkpoints (the cold sampler) only"
                : diffusion.ColdVersion < 2 ? "--start-perturbation at sampling time needs a checkpoint of cold diffusion version 2 (this one samples as version 1 did)"
                : $"--start-perturbation must be >= 0, got {p}");
        if (allowed != Gaussian) return NoiseSpecific(diffusion, kind, options);
        var schedule = NoiseSchedule.Create(diffusion.Schedule, diffusion.Timesteps);
        ISampler sampler = kind switch
        {
            "ddpm" => new AncestralSampler(schedule, options.Sigma, options.Steps, options.ClipX0),
            "ddim" => new DdimSampler(schedule, options.Steps == 0 ? schedule.T : options.Steps, options.Eta, options.ClipX0),
            _ => new DpmSolverSampler(schedule, options.Steps == 0 ? Math.Min(DefaultDpmSteps, schedule.T) : options.Steps, clipX0: options.ClipX0),
        };
        var prediction = PredictionTypes.Create(diffusion.Prediction);
        return prediction is EpsilonPrediction ? sampler : new PredictionSampler(sampler, prediction, schedule);
    }

    /// <summary>Gamma, cold and EDM samplers own their noise process (it holds the degradation operators or σ_data).</summary>
    private static ISampler NoiseSpecific(DiffusionConfig diffusion, string kind, SamplerOptions options)
    {
        var process = NoiseProcesses.Create(options.StartPerturbation is { } p ? diffusion with { StartPerturbation = p } : diffusion);
        return kind switch
        {
            "gamma" => new GammaSampler((GammaDiffusion)process, options.Steps),
            "ddim" => new GammaDdimSampler((GammaDiffusion)process, options.Steps == 0 ? process.Schedule.T : options.Steps, options.Eta, options.ClipX0),
            SamplerOptions.HeunName => new EdmSampler((EdmDiffusion)process, options.Steps == 0 ? EdmSampler.DefaultLevels : options.Steps, options.Churn),
            _ => new ColdSampler((ColdDiffusion)process, options.Steps),
        };
    }
}
