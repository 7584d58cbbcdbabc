using System.Text.Json;
using System.Text.Json.Serialization;
using Ddpm.Model;

namespace Ddpm.Training;

/// <summary>What a run was made of. Stored as config.json in every checkpoint; enough to rebuild the model and sampler.</summary>
internal sealed record RunConfig
{
    public const string FormatName = "ddpm-checkpoint";
    public const int CurrentVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;
    public required UNetConfig Model { get; init; }
    public required DiffusionConfig Diffusion { get; init; }
    public required DataConfig Data { get; init; }
    public required OptimConfig Training { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static RunConfig FromJson(string json, string source)
    {
        RunConfig? config;
        bool hasColdVersion;
        try
        {
            config = JsonSerializer.Deserialize<RunConfig>(json, Json);
            hasColdVersion = System.Text.Json.Nodes.JsonNode.Parse(json)?["diffusion"]?["coldVersion"] is not null;
        }
        catch (JsonException e) { throw new DdpmException($"{source}: not a ddpm checkpoint config ({e.Message})"); }
        if (config is null || config.Format != FormatName)
            throw new DdpmException($"{source}: not a ddpm checkpoint config (format '{config?.Format}')");
        // Written before cold diffusion followed its authors' code: keep degrading and sampling as then.
        if (!hasColdVersion) config = config with { Diffusion = config.Diffusion with { ColdVersion = 1 } };
        if (config.Version > CurrentVersion)
            throw new DdpmException($"{source}: checkpoint format version {config.Version} is newer than this ddpm understands ({CurrentVersion})");
        config.Model.Validate();
        return config;
    }
}

internal sealed record DiffusionConfig
{
    /// <summary>gaussian, gamma, blur or mask (<see cref="Diffusion.NoiseProcesses.Names"/>).</summary>
    public string Noise { get; init; } = "gaussian";
    /// <summary>The β schedule of gaussian and gamma noise; blur and mask have their own severity schedule.</summary>
    public string Schedule { get; init; } = "linear";
    public int Timesteps { get; init; } = 1000;
    /// <summary>Gaussian noise: what the network predicts, "eps" (Ho et al. 2020), "v" (<see cref="Diffusion.Predictions.PredictionTypes"/>)
    /// or "edm" (Karras et al. 2022's preconditioned denoiser on continuous σ, <see cref="Diffusion.EdmDiffusion"/>).
    /// Checkpoints written before this field existed predict ε.</summary>
    public string Prediction { get; init; } = Diffusion.Predictions.EpsilonPrediction.PredictionName;
    /// <summary>The edm objective: σ_data, the training pixels' standard deviation, measured when training starts.</summary>
    public double? SigmaData { get; init; }
    /// <summary>The edm objective: ln σ ~ N(P_mean, P_std²) while training (Karras et al. 2022: −1.2, 1.2).</summary>
    public double EdmPMean { get; init; } = Diffusion.EdmDiffusion.DefaultPMean;
    public double EdmPStd { get; init; } = Diffusion.EdmDiffusion.DefaultPStd;
    /// <summary>Gaussian noise: γ of min-SNR-γ loss weighting (Hang et al. 2023); null = uniform weights (L_simple).</summary>
    public double? MinSnrGamma { get; init; }
    /// <summary>Gaussian noise with eps or v: immiscible diffusion (Li et al. 2024), the batch's noise assigned to its images by
    /// minimum total distance (<see cref="Diffusion.NoiseAssignment"/>). Off in checkpoints written before the field existed.</summary>
    public bool Immiscible { get; init; }
    /// <summary>Gamma noise: the scale hyper-parameter θ_0 of Nachmani et al. 2021.</summary>
    public double GammaTheta0 { get; init; } = Diffusion.GammaDiffusion.DefaultTheta0;
    /// <summary>
    /// Blur and mask: 2 (current) = as Bansal et al.'s code generates (<see cref="Diffusion.DefadingDiffusion"/>; blur started from a
    /// mixture fitted to the channel means, its perturbation removed); 1 = ddpm's first version (a fixed pixel order set to 0;
    /// blur started from N(μ, s²) + 0.05 noise), what configs written before the field existed get (<see cref="RunConfig.FromJson"/>).
    /// </summary>
    public int ColdVersion { get; init; } = CurrentColdVersion;
    public const int CurrentColdVersion = 2;
    /// <summary>Blur, version 2: the start levels' mixture, fitted to the training images' channel means when training starts.</summary>
    public Diffusion.GaussianMixture? StartMixture { get; init; }
    /// <summary>Blur, version 1: mean and standard deviation of the training images' mean pixel (the fully blurred image).</summary>
    public double? DegradedMean { get; init; }
    public double? DegradedStd { get; init; }
    /// <summary>Blur and mask: σ of the Gaussian perturbation added to the fully degraded start image; null = the version's default
    /// (<see cref="Diffusion.NoiseProcesses.DefaultPerturbation"/>: blur 0.002, mask 0; version 1: 0.05).</summary>
    public double? StartPerturbation { get; init; }

    /// <summary>"gaussian noise, linear schedule" or "blur (cold diffusion)".</summary>
    public string Describe() => Diffusion.NoiseProcesses.UsesBetaSchedule(Noise) ? $"{Noise} noise, {Schedule} schedule" : $"{Noise} (cold diffusion)";

    /// <summary>The EDM objective: continuous σ instead of the β schedule's steps.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEdm => Noise == Diffusion.GaussianDiffusion.ProcessName && Prediction == Diffusion.EdmDiffusion.PredictionName;

    /// <summary>", v-prediction, min-SNR-5 weights" for Gaussian noise (what the network learns); empty for the others.</summary>
    public string DescribeObjective() => Noise != Diffusion.GaussianDiffusion.ProcessName ? ""
        : IsEdm ? $", EDM objective (σ_data = {SigmaData:F3})"
        : $", {Prediction}-prediction, {(MinSnrGamma is { } g ? $"min-SNR-{g:G3} weights" : "uniform weights")}{(Immiscible ? ", immiscible noise" : "")}";
}

internal sealed record DataConfig
{
    public string Path { get; init; } = "data/mnist";
    public int Subset { get; init; }
    public int Count { get; init; }
    public int ImageSize { get; init; } = 28;
    public int Channels { get; init; } = 1;
    /// <summary>Label i's name: image folders' class folders, Fashion-MNIST's classes (null for MNIST, whose labels are digits, and unlabelled data).</summary>
    public string[]? ClassNames { get; init; }

    /// <summary>The label of a class given by name (case-insensitive) or by number; a one-line error listing the names otherwise.</summary>
    public int ClassIndex(string nameOrNumber, int numClasses)
    {
        if (ClassNames is { } names)
        {
            int i = Array.FindIndex(names, n => string.Equals(n, nameOrNumber.Trim(), StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
        }
        if (int.TryParse(nameOrNumber, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int label) && label < numClasses) return label;
        var known = ClassNames is { } list ? string.Join(", ", list.Select((n, k) => $"{k} = {n}")) : $"0..{numClasses - 1}";
        throw new DdpmException($"class '{nameOrNumber}' is not one of this model's classes ({known})");
    }
}

internal sealed record OptimConfig
{
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    /// <summary>Adam's β₂, the decay of the squared-gradient average (Kingma &amp; Ba 2015, Algorithm 1); 0.999 in checkpoints before the field.</summary>
    public double AdamBeta2 { get; init; } = 0.999;
    public int WarmupSteps { get; init; } = 200;
    /// <summary>After warm-up: "constant" (checkpoints before this field), or "cosine" decay to 0 at the end of the run's budget (<see cref="LearningRates"/>).</summary>
    public string LrSchedule { get; init; } = LearningRates.Constant;
    public double GradClip { get; init; } = 1.0;
    public double EmaDecay { get; init; } = 0.999;
    public long Seed { get; init; }
    /// <summary>Convolution compute precision, "fp32" or "bf16" (<see cref="Model.Precision"/>); master weights stay fp32.</summary>
    public string Precision { get; init; } = "fp32";
    /// <summary>Probability of replacing a label by the null class while training a conditional model.</summary>
    public double LabelDrop { get; init; } = 0.1;

    public void Validate()
    {
        Model.PrecisionNames.Parse(Precision);
        if (LabelDrop is < 0 or > 1 || double.IsNaN(LabelDrop)) throw new DdpmException($"label drop probability must be in [0, 1], got {LabelDrop}");
        if (BatchSize < 1) throw new DdpmException($"batch size must be >= 1, got {BatchSize}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new DdpmException($"learning rate must be > 0, got {LearningRate}");
        if (WeightDecay < 0) throw new DdpmException($"weight decay must be >= 0, got {WeightDecay}");
        if (AdamBeta2 is <= 0 or >= 1 || double.IsNaN(AdamBeta2)) throw new DdpmException($"Adam beta2 must be in (0, 1), got {AdamBeta2}");
        if (!LearningRates.Names.Contains(LrSchedule)) throw new DdpmException($"unknown learning-rate schedule '{LrSchedule}' (choose from {string.Join(", ", LearningRates.Names)})");
        if (WarmupSteps < 0) throw new DdpmException($"warmup steps must be >= 0, got {WarmupSteps}");
        if (!(GradClip > 0)) throw new DdpmException($"gradient clip norm must be > 0, got {GradClip}");
        if (EmaDecay is < 0 or >= 1) throw new DdpmException($"EMA decay must be in [0, 1), got {EmaDecay}");
    }
}
