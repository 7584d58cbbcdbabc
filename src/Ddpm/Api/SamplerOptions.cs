namespace Ddpm;

/// <summary>How to sample: a sampler kind (null = the checkpoint's noise type's own) with its settings.</summary>
public sealed record SamplerOptions
{
    /// <summary>Every sampler kind: ddpm (ancestral, Ho et al. 2020 Algorithm 2), ddim (Song et al. 2021), dpm++2m (Lu et al. 2022),
    /// heun (Karras et al. 2022, edm checkpoints), gamma (Nachmani et al. 2021) and cold (Bansal et al. 2022).</summary>
    public static readonly IReadOnlyList<string> Names = ["ddpm", "ddim", DpmSolverName, HeunName, "gamma", "cold"];
    /// <summary>EDM's Heun sampler (Algorithms 1 and 2).</summary>
    public const string HeunName = "heun";
    /// <summary>DPM-Solver++(2M), the default for Gaussian noise without guidance.</summary>
    public const string DpmSolverName = "dpm++2m";
    /// <summary>ddpm, ddim, dpm++2m, gamma or cold; null picks the one that fits the noise type (Gaussian: DDIM with 10 steps
    /// when sampling with guidance, DPM-Solver++(2M) with 20 without).</summary>
    public string? Kind { get; init; }
    /// <summary>ddpm: the reverse-process variance σ_t².</summary>
    public SigmaKind Sigma { get; init; } = SigmaKind.Beta;
    /// <summary>Sampler steps (0 = the sampler's default: all T, dpm++2m 20, heun 18 noise levels; the guided default DDIM 10).</summary>
    public int Steps { get; init; }
    /// <summary>ddim: η, 0 = deterministic, 1 = ancestral-like noise.</summary>
    public double Eta { get; init; }
    /// <summary>ddpm, ddim and dpm++2m: clamp x̂_0 to [-1, 1] at every step.</summary>
    public bool ClipX0 { get; init; }
    /// <summary>heun: EDM's S_churn (0 = deterministic, Algorithm 1).</summary>
    public double Churn { get; init; }
    /// <summary>cold (blur and mask): σ of the start's perturbation δ z in place of the checkpoint's (null = the checkpoint's).</summary>
    public double? StartPerturbation { get; init; }
}

/// <summary>Choice of σ_t² in the reverse process (Ho et al. 2020 §3.2).</summary>
public enum SigmaKind
{
    /// <summary>σ_t² = β_t: optimal for x_0 ~ N(0, I).</summary>
    Beta,
    /// <summary>σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t: optimal for a deterministic x_0.</summary>
    BetaTilde,
}
