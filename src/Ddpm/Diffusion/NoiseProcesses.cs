using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>Builds the noise process a config names.</summary>
internal static class NoiseProcesses
{
    public static readonly IReadOnlyList<string> Names =
        [GaussianDiffusion.ProcessName, GammaDiffusion.ProcessName, BlurDiffusion.ProcessName, MaskDiffusion.ProcessName];

    /// <summary>Blur and mask have their own severity schedule; the β schedules apply to gaussian and gamma only.</summary>
    public static bool UsesBetaSchedule(string noise) => noise is GaussianDiffusion.ProcessName or GammaDiffusion.ProcessName;

    public static INoiseProcess Create(DiffusionConfig config)
    {
        var schedule = NoiseSchedule.Create(config.Schedule, config.Timesteps);
        return config.Noise switch
        {
            GaussianDiffusion.ProcessName when config.IsEdm => new EdmDiffusion(schedule,
                config.SigmaData ?? throw new DdpmException("this edm config has no σ_data (it is measured when training starts)"), config.EdmPMean, config.EdmPStd),
            GaussianDiffusion.ProcessName => new GaussianDiffusion(schedule, Predictions.PredictionTypes.Create(config.Prediction), config.MinSnrGamma, config.Immiscible),
            GammaDiffusion.ProcessName => new GammaDiffusion(schedule, config.GammaTheta0),
            BlurDiffusion.ProcessName when config.ColdVersion == 1 => new BlurDiffusion(schedule, config.DegradedMean, config.DegradedStd, DefaultPerturbation(config)),
            BlurDiffusion.ProcessName => new BlurDiffusion(schedule, config.StartMixture, DefaultPerturbation(config)),
            MaskDiffusion.ProcessName when config.ColdVersion == 1 => new MaskDiffusion(schedule, DefaultPerturbation(config)),
            MaskDiffusion.ProcessName => new DefadingDiffusion(schedule, DefaultPerturbation(config)),
            _ => throw new DdpmException($"unknown noise type '{config.Noise}' (choose from {string.Join(", ", Names)})"),
        };
    }

    /// <summary>Blur and mask: the config's start perturbation, else its version's (Bansal et al.: blur 0.001–0.004, defading 0).</summary>
    public static double DefaultPerturbation(DiffusionConfig config) => config.StartPerturbation ?? (config.ColdVersion, config.Noise) switch
    {
        (1, _) => ColdDiffusion.DefaultPerturbation,
        (_, BlurDiffusion.ProcessName) => BlurDiffusion.MixturePerturbation,
        _ => 0,
    };

    /// <summary>Checks a config before training and fills in what a process measures on the data (blur: the start statistics).</summary>
    public static DiffusionConfig Prepare(DiffusionConfig config, Tensor images)
    {
        if (!Names.Contains(config.Noise)) throw new DdpmException($"unknown noise type '{config.Noise}' (choose from {string.Join(", ", Names)})");
        if (!UsesBetaSchedule(config.Noise) && config.Schedule != "linear")
            throw new DdpmUsageException($"--schedule applies to gaussian and gamma noise; {config.Noise} has its own severity schedule");
        if (config.Noise == GammaDiffusion.ProcessName && (!(config.GammaTheta0 > 0) || !double.IsFinite(config.GammaTheta0)))
            throw new DdpmException($"gamma θ_0 must be > 0, got {config.GammaTheta0}");
        if (!Predictions.PredictionTypes.Objectives.Contains(config.Prediction))
            throw new DdpmException($"unknown prediction type '{config.Prediction}' (choose from {string.Join(", ", Predictions.PredictionTypes.Objectives)})");
        if (config.IsEdm && config.MinSnrGamma is not null) throw new DdpmUsageException("--min-snr does not apply to the edm objective: it has its own weighting λ(σ)");
        if (config.Noise != GaussianDiffusion.ProcessName && (config.Prediction != Predictions.EpsilonPrediction.PredictionName || config.MinSnrGamma is not null))
            throw new DdpmUsageException($"--prediction and --min-snr apply to gaussian noise only; {config.Noise} has its own target");
        if (config.Immiscible && (config.Noise != GaussianDiffusion.ProcessName || config.IsEdm))
            throw new DdpmUsageException("--immiscible applies to gaussian noise with the eps or v objective");
        if (config.MinSnrGamma is { } gamma && (!(gamma > 0) || !double.IsFinite(gamma))) throw new DdpmException($"min-SNR γ must be > 0, got {gamma}");
        if (config.StartPerturbation is { } p && (p < 0 || !double.IsFinite(p)))
            throw new DdpmException($"start perturbation must be >= 0, got {p}");
        if (config.ColdVersion is < 1 or > DiffusionConfig.CurrentColdVersion)
            throw new DdpmException($"cold diffusion version must be 1..{DiffusionConfig.CurrentColdVersion}, got {config.ColdVersion}");
        if (config.IsEdm && config.SigmaData is null) return config with { SigmaData = EdmDiffusion.MeasureSigmaData(images) };
        if (UsesBetaSchedule(config.Noise)) return config;
        config = config with { StartPerturbation = DefaultPerturbation(config) };
        if (config.Noise != BlurDiffusion.ProcessName) return config;
        if (config.ColdVersion >= 2) return config.StartMixture is not null ? config : config with { StartMixture = BlurDiffusion.FitStart(images) };
        if (config.DegradedMean is not null) return config;
        var (mean, std) = BlurDiffusion.StartStatistics(images);
        return config with { DegradedMean = mean, DegradedStd = std };
    }
}
