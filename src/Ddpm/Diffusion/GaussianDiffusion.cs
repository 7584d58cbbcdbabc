using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// The forward process of Ho et al. 2020: q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (eq. 4), with the
/// ε-prediction objective ‖ε − ε_θ(x_t, t)‖² (eq. 14, L_simple).
/// </summary>
public sealed class GaussianDiffusion : INoiseProcess, IDisposable
{
    public const string ProcessName = "gaussian";

    private readonly Tensor _sqrtAlphaBar;          // √ᾱ_t, t = 0..T
    private readonly Tensor _sqrtOneMinusAlphaBar;  // √(1 − ᾱ_t)

    public GaussianDiffusion(NoiseSchedule schedule)
    {
        Schedule = schedule;
        _sqrtAlphaBar = tensor(schedule.AlphaBar.Select(Math.Sqrt).ToArray()).to(ScalarType.Float32).DetachFromDisposeScope();
        _sqrtOneMinusAlphaBar = tensor(schedule.AlphaBar.Select(a => Math.Sqrt(1 - a)).ToArray()).to(ScalarType.Float32).DetachFromDisposeScope();
    }

    public string Name => ProcessName;
    public NoiseSchedule Schedule { get; }

    /// <summary>Eq. 4 reparameterised: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, for a batch with a different t per example.</summary>
    /// <param name="t">Int64 tensor [B] of steps in 0..T (0 returns x_0 unchanged).</param>
    public Tensor QSample(Tensor x0, Tensor t, Tensor noise)
    {
        var shape = new long[] { -1, 1, 1, 1 };
        var a = _sqrtAlphaBar.index_select(0, t).view(shape);
        var s = _sqrtOneMinusAlphaBar.index_select(0, t).view(shape);
        return a * x0 + s * noise;
    }

    public (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator)
    {
        var noise = randn(x0.shape, dtype: x0.dtype, generator: generator);
        return (QSample(x0, t, noise), noise);
    }

    public Tensor Loss(Tensor prediction, Tensor target) => nn.functional.mse_loss(prediction, target);

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
    }
}
