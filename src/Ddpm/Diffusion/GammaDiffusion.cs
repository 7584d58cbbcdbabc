using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Denoising Diffusion Gamma Models (Nachmani, San Roman &amp; Wolf 2021). Each forward step adds centred gamma
/// noise g_t − k_t θ_t with g_t ~ Γ(k_t, θ_t), θ_t = √ᾱ_t θ_0 and k_t = β_t/(ᾱ_t θ_0²), so Var = k_t θ_t² = β_t as in
/// DDPM. Because √α_t scales Γ(k̄_{t−1}, θ_{t−1}) to scale θ_t, the steps add up in closed form:
/// x_t = √ᾱ_t x_0 + (ḡ_t − k̄_t θ_t), ḡ_t ~ Γ(k̄_t, θ_t), k̄_t = Σ_{i≤t} k_i = (1 − ᾱ_t)/(ᾱ_t θ_0²).
/// The network predicts the centred noise over √(1 − ᾱ_t) (unit variance) with an L1 loss (the paper's Algorithm 1).
/// </summary>
internal sealed class GammaDiffusion : INoiseProcess, IDisposable
{
    public const string ProcessName = "gamma";
    /// <summary>θ_0 = 0.001 keeps every shape k̄_t ≥ 100 on the linear schedule (skewness 2/√k̄ ≤ 0.2), so the
    /// noise is gamma-shaped but never far from the Gaussian whose variance it matches.</summary>
    public const double DefaultTheta0 = 0.001;

    private readonly Tensor _sqrtAlphaBar;
    private readonly Tensor _sqrtOneMinusAlphaBar;
    private readonly Tensor _kBar; // float64: k̄_T is about 2.5e10 on the linear schedule (θ_0 = 0.001), more on others

    public GammaDiffusion(NoiseSchedule schedule, double theta0 = DefaultTheta0)
    {
        if (!(theta0 > 0) || !double.IsFinite(theta0)) throw new DdpmException($"gamma θ_0 must be > 0, got {theta0}");
        Schedule = schedule;
        Theta0 = theta0;
        KBar = KBars(schedule, theta0);
        _sqrtAlphaBar = tensor(schedule.AlphaBar.Select(Math.Sqrt).ToArray()).to(ScalarType.Float32).DetachFromDisposeScope();
        _sqrtOneMinusAlphaBar = tensor(schedule.AlphaBar.Select(a => Math.Sqrt(1 - a)).ToArray()).to(ScalarType.Float32).DetachFromDisposeScope();
        _kBar = tensor(KBar).DetachFromDisposeScope();
    }

    public string Name => ProcessName;
    public NoiseSchedule Schedule { get; }
    public double Theta0 { get; }
    /// <summary>k̄_t for t = 0..T (k̄_0 = 0: no noise yet).</summary>
    public double[] KBar { get; }

    /// <summary>k_t = β_t/(ᾱ_t θ_0²) for t = 1..T (index 0 holds 0).</summary>
    public static double[] Shapes(NoiseSchedule schedule, double theta0) =>
        schedule.Beta.Select((b, t) => t == 0 ? 0 : b / (schedule.AlphaBar[t] * theta0 * theta0)).ToArray();

    /// <summary>k̄_t = Σ_{i≤t} k_i, summed as in the paper.</summary>
    public static double[] KBars(NoiseSchedule schedule, double theta0)
    {
        var k = Shapes(schedule, theta0);
        var kBar = new double[k.Length];
        for (int t = 1; t < k.Length; t++) kBar[t] = kBar[t - 1] + k[t];
        return kBar;
    }

    /// <summary>θ_t = √ᾱ_t θ_0.</summary>
    public double Theta(int t) => Math.Sqrt(Schedule.AlphaBar[t]) * Theta0;

    /// <summary>
    /// (ḡ − k̄θ)/√(1 − ᾱ) for ḡ ~ Γ(k̄, θ): with k̄θ² = 1 − ᾱ this is (G − k̄)/√k̄ for G ~ Γ(k̄, 1), zero mean and unit
    /// variance. Drawn in float64 because G ≈ k̄ is large and the centring subtracts two close numbers.
    /// </summary>
    /// <param name="kBar">Float64 shapes, one per example [B] (all &gt; 0).</param>
    public static Tensor StandardizedNoise(long[] shape, Tensor kBar, Generator? generator)
    {
        var k = kBar.view(-1, 1, 1, 1).expand(shape).contiguous();
        var g = _standard_gamma(k, generator);
        return ((g - k) / k.sqrt()).to(ScalarType.Float32);
    }

    /// <summary>The standardised noise at one step t for a whole batch.</summary>
    public Tensor StandardizedNoise(long[] shape, int t, Generator? generator) =>
        StandardizedNoise(shape, full(shape[0], KBar[t], ScalarType.Float64), generator);

    /// <summary>x_T = ḡ − k̄_T θ_T, ḡ ~ Γ(k̄_T, θ_T) (Algorithm 2, line 1): the standardised noise at T times √(1 − ᾱ_T).</summary>
    public Tensor Start(long[] shape, Generator? generator) =>
        StandardizedNoise(shape, Schedule.T, generator) * Math.Sqrt(1 - Schedule.AlphaBar[Schedule.T]);

    /// <summary>The closed-form forward sample x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε_Γ, ε_Γ the standardised gamma noise.</summary>
    public Tensor QSample(Tensor x0, Tensor t, Tensor noise)
    {
        var shape = new long[] { -1, 1, 1, 1 };
        return StepTables.At(_sqrtAlphaBar, t).view(shape) * x0 + StepTables.At(_sqrtOneMinusAlphaBar, t).view(shape) * noise;
    }

    public (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator)
    {
        // t = 0 (shape 0) only occurs in demos: no noise.
        var kBar = StepTables.At(_kBar, t).clamp_min(1e-300);
        var noise = StandardizedNoise(x0.shape, kBar, generator) * t.gt(0).view(-1, 1, 1, 1);
        return (QSample(x0, t, noise), noise);
    }

    public Tensor Loss(Tensor prediction, Tensor target, Tensor t) => nn.functional.l1_loss(prediction, target);

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
        _kBar.Dispose();
    }
}
