using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Cold Diffusion (Bansal et al. 2022): a deterministic degradation D(x_0, t) with D(x_0, 0) = x_0 that grows with t,
/// and a restoration network R(x_t, t) ≈ x_0 trained with ‖R(D(x_0, t), t) − x_0‖₁ (their eq. 1). There is no noise
/// and no β schedule: the severity is a function of t/T alone. Generation starts from a fully degraded image plus a
/// small Gaussian perturbation (<see cref="Start"/>), which is what makes two samples differ.
/// </summary>
public abstract class ColdDiffusion(NoiseSchedule schedule, double perturbation) : INoiseProcess
{
    /// <summary>σ of the perturbation of x_T: visible to the restorer, small next to the [-1, 1] pixel range.</summary>
    public const double DefaultPerturbation = 0.05;

    public abstract string Name { get; }
    /// <summary>Only T is used.</summary>
    public NoiseSchedule Schedule { get; } = schedule;
    public int T => Schedule.T;
    public double Perturbation { get; } = perturbation;

    /// <summary>D(x_0, t) for a batch with its own t ∈ 0..T per example (Int64 [B]).</summary>
    public abstract Tensor Degrade(Tensor x0, Tensor t);

    public Tensor Degrade(Tensor x0, int t) => Degrade(x0, full(x0.shape[0], t, ScalarType.Int64));

    /// <summary>The fully degraded state D(·, T) a sample starts from, before the perturbation.</summary>
    protected abstract Tensor FullyDegraded(long[] shape, Generator generator);

    /// <summary>x_T = D(·, T) + δ z, z ~ N(0, I).</summary>
    public Tensor Start(long[] shape, Generator generator) =>
        FullyDegraded(shape, generator) + randn(shape, generator: generator) * Perturbation;

    public (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator) => (Degrade(x0, t), x0);

    public Tensor Loss(Tensor prediction, Tensor target, Tensor t) => nn.functional.l1_loss(prediction, target);
}
