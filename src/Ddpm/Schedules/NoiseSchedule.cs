namespace Ddpm.Schedules;

/// <summary>
/// The variance schedule of Ho et al. 2020 with the paper's indexing: t = 0 is the clean image and
/// t = 1..T are noising steps. Arrays have length T + 1; index 0 holds β_0 = 0, α_0 = ᾱ_0 = 1.
/// </summary>
internal sealed class NoiseSchedule
{
    public static readonly IReadOnlyList<string> Names = ["linear", "simple-linear", "cosine", "sigmoid", "exponential"];

    public string Name { get; }
    public int T { get; }
    /// <summary>β_t.</summary>
    public double[] Beta { get; }
    /// <summary>α_t = 1 − β_t.</summary>
    public double[] Alpha { get; }
    /// <summary>ᾱ_t = Π_{s≤t} α_s.</summary>
    public double[] AlphaBar { get; }

    private NoiseSchedule(string name, double[] betas)
    {
        Name = name;
        T = betas.Length;
        Beta = [0, .. betas];
        Alpha = Beta.Select(b => 1 - b).ToArray();
        AlphaBar = BetaSchedules.AlphaBars(betas);
    }

    public static NoiseSchedule Create(string name, int timesteps)
    {
        if (timesteps < 2) throw new DdpmException($"timesteps must be at least 2, got {timesteps}");
        double[] betas = name switch
        {
            "linear" => BetaSchedules.Linear(timesteps),
            "simple-linear" => BetaSchedules.SimpleLinear(timesteps),
            "cosine" => BetaSchedules.Cosine(timesteps),
            "sigmoid" => BetaSchedules.Sigmoid(timesteps),
            "exponential" => BetaSchedules.Exponential(timesteps),
            _ => throw new DdpmException($"unknown schedule '{name}' (choose from {string.Join(", ", Names)})"),
        };
        return new NoiseSchedule(name, betas);
    }

    /// <summary>β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) · β_t, the variance of the posterior q(x_{t−1}|x_t, x_0) (eq. 7).</summary>
    public double PosteriorVariance(int t) => (1 - AlphaBar[t - 1]) / (1 - AlphaBar[t]) * Beta[t];
}
