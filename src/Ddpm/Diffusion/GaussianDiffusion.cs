using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// The forward process of Ho et al. 2020: q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (eq. 4), with a regression target
/// (<see cref="IPrediction"/>: ε as in eq. 14, L_simple, or v) and a per-step loss weight (uniform, or min-SNR-γ).
/// </summary>
internal sealed class GaussianDiffusion : INoiseProcess, IDisposable
{
    public const string ProcessName = "gaussian";

    private readonly Tensor _sqrtAlphaBar;          // √ᾱ_t, t = 0..T
    private readonly Tensor _sqrtOneMinusAlphaBar;  // √(1 − ᾱ_t)
    private readonly Tensor? _weight;               // loss weight per t, null = uniform

    /// <param name="minSnrGamma">γ of min-SNR-γ weighting (Hang et al. 2023); null = uniform weights (L_simple).</param>
    /// <param name="immiscible">Assign the batch's noise to its images by minimum total distance (<see cref="NoiseAssignment"/>).</param>
    public GaussianDiffusion(NoiseSchedule schedule, IPrediction? prediction = null, double? minSnrGamma = null, bool immiscible = false)
    {
        Immiscible = immiscible;
        Schedule = schedule;
        Prediction = prediction ?? new EpsilonPrediction();
        MinSnrGamma = minSnrGamma;
        _sqrtAlphaBar = tensor(schedule.AlphaBar.Select(Math.Sqrt).ToArray()).to(ScalarType.Float32).DetachFromDisposeScope();
        _sqrtOneMinusAlphaBar = tensor(schedule.AlphaBar.Select(a => Math.Sqrt(1 - a)).ToArray()).to(ScalarType.Float32).DetachFromDisposeScope();
        if (minSnrGamma is { } gamma)
        {
            if (!(gamma > 0) || !double.IsFinite(gamma)) throw new DdpmException($"min-SNR γ must be > 0, got {gamma}");
            using var scope = NewDisposeScope();
            // SNR(t) = ᾱ_t/(1 − ᾱ_t) (Kingma et al. 2021); t = 0 is never trained on, its weight is a placeholder.
            var snr = tensor(schedule.AlphaBar.Select((a, t) => t == 0 ? 1.0 : a / (1 - a)).ToArray());
            _weight = Prediction.MinSnrWeight(snr, gamma).to(ScalarType.Float32).MoveToOuterDisposeScope().DetachFromDisposeScope();
        }
    }

    public string Name => ProcessName;
    public NoiseSchedule Schedule { get; }
    public IPrediction Prediction { get; }
    public double? MinSnrGamma { get; }
    public bool Immiscible { get; }

    /// <summary>Eq. 4 reparameterised: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, for a batch with a different t per example.</summary>
    /// <param name="t">Int64 tensor [B] of steps in 0..T (0 returns x_0 unchanged).</param>
    public Tensor QSample(Tensor x0, Tensor t, Tensor noise)
    {
        var (a, s) = Coefficients(t);
        return a * x0 + s * noise;
    }

    private (Tensor Alpha, Tensor Sigma) Coefficients(Tensor t)
    {
        var shape = new long[] { -1, 1, 1, 1 };
        return (StepTables.At(_sqrtAlphaBar, t).view(shape), StepTables.At(_sqrtOneMinusAlphaBar, t).view(shape));
    }

    public (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator)
    {
        var noise = randn(x0.shape, dtype: x0.dtype, generator: generator);
        if (Immiscible) noise = NoiseAssignment.Assign(x0, noise);
        var (a, s) = Coefficients(t);
        return (a * x0 + s * noise, Prediction.Target(x0, noise, a, s));
    }

    /// <summary>Mean squared error; with min-SNR-γ, each example's mean is weighted by w(t) (Hang et al. 2023 eq. 6).</summary>
    public Tensor Loss(Tensor prediction, Tensor target, Tensor t)
    {
        if (_weight is null) return nn.functional.mse_loss(prediction, target);
        var perExample = (prediction - target).square().flatten(1).mean([1]);
        return (perExample * StepTables.At(_weight, t)).mean();
    }

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
        _weight?.Dispose();
    }
}
