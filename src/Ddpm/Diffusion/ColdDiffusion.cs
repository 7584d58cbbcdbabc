using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Cold Diffusion (Bansal et al. 2022): a deterministic degradation D(x_0, t) with D(x_0, 0) = x_0 that grows with t,
/// and a restoration network R(x_t, t) ≈ x_0 trained with ‖R(D(x_0, t), t) − x_0‖₁ (their eq. 1). There is no noise
/// and no β schedule: the severity is a function of t/T alone. Generation starts from a fully degraded image plus a
/// Gaussian perturbation (<see cref="Start"/>); a degradation may also move towards a random end state x_end drawn per
/// training example (defading's random level), which then is the start itself.
/// </summary>
internal abstract class ColdDiffusion(NoiseSchedule schedule, double perturbation, bool removesPerturbation) : INoiseProcess
{
    /// <summary>σ of the perturbation of x_T in configs of the first version (<see cref="Training.DiffusionConfig.ColdVersion"/> 1).</summary>
    public const double DefaultPerturbation = 0.05;

    public abstract string Name { get; }
    /// <summary>Only T is used.</summary>
    public NoiseSchedule Schedule { get; } = schedule;
    public int T => Schedule.T;
    public double Perturbation { get; } = perturbation;
    /// <summary>The sampler subtracts the start's perturbation from its result: with Algorithm 2 it would otherwise be carried
    /// into x_0 unchanged (x_t − D(x̂_0, t) telescopes), as grain (Bansal et al.'s <c>all_sample</c>: <c>img - noise</c>).</summary>
    public bool RemovesPerturbation { get; } = removesPerturbation;

    /// <summary>D(x_0, t) for a batch with its own t ∈ 0..T per example (Int64 [B]), towards <paramref name="end"/> (x_end, [B, C, 1, 1]
    /// or x_0's shape) where the degradation has one; the others ignore it.</summary>
    public abstract Tensor Degrade(Tensor x0, Tensor t, Tensor? end = null);

    public Tensor Degrade(Tensor x0, int t, Tensor? end = null) => Degrade(x0, full(x0.shape[0], t, ScalarType.Int64), end);

    /// <summary>The end state x_end a training example degrades towards, or null when D(x_0, T) is a function of x_0 alone.</summary>
    protected virtual Tensor? DrawEnd(long[] shape, Generator? generator) => null;

    /// <summary>The fully degraded state D(·, T) a sample starts from, before the perturbation.</summary>
    protected abstract Tensor FullyDegraded(long[] shape, Generator generator);

    /// <summary>x_T = D(·, T) + δ z, z ~ N(0, I), with its perturbation δ z.</summary>
    public ColdStart Start(long[] shape, Generator generator)
    {
        var clean = FullyDegraded(shape, generator);
        var perturbation = randn(shape, generator: generator) * Perturbation;
        return new ColdStart(clean + perturbation, perturbation);
    }

    public (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator) =>
        (Degrade(x0, t, DrawEnd(x0.shape, generator)), x0);

    public Tensor Loss(Tensor prediction, Tensor target, Tensor t) => nn.functional.l1_loss(prediction, target);
}

/// <summary>A cold sampler's x_T and the perturbation δ z it holds (null when x_T is given, e.g. D(x_0, T) of a real image).</summary>
internal readonly record struct ColdStart(Tensor X, Tensor? Perturbation);
