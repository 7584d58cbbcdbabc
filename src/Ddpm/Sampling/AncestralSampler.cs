using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>Choice of σ_t² in the reverse process (Ho et al. 2020 §3.2).</summary>
public enum SigmaKind
{
    /// <summary>σ_t² = β_t: optimal for x_0 ~ N(0, I).</summary>
    Beta,
    /// <summary>σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t: optimal for a deterministic x_0.</summary>
    BetaTilde,
}

/// <summary>DDPM's ancestral sampler (Algorithm 2).</summary>
public sealed class AncestralSampler(NoiseSchedule schedule, SigmaKind sigma = SigmaKind.Beta) : ISampler
{
    public NoiseSchedule Schedule { get; } = schedule;
    public SigmaKind Sigma { get; } = sigma;
    public int Steps => Schedule.T;
    public IReadOnlyList<int> States => Enumerable.Range(0, Schedule.T + 1).Reverse().ToArray();

    /// <summary>σ_t for t in 1..T.</summary>
    public double SigmaAt(int t) => Math.Sqrt(Sigma == SigmaKind.Beta ? Schedule.Beta[t] : Schedule.PosteriorVariance(t));

    /// <summary>
    /// Algorithm 2, line 4: x_{t−1} = (x_t − (1 − α_t)/√(1 − ᾱ_t) · ε̂)/√α_t + σ_t z, with z = 0 at t = 1.
    /// </summary>
    /// <param name="z">Standard normal noise; ignored (may be null) at t = 1.</param>
    public Tensor Step(Tensor xt, Tensor epsilon, int t, Tensor? z)
    {
        if (t < 1 || t > Schedule.T) throw new ArgumentOutOfRangeException(nameof(t), $"t must be in 1..{Schedule.T}");
        double epsCoef = (1 - Schedule.Alpha[t]) / Math.Sqrt(1 - Schedule.AlphaBar[t]);
        var mean = (xt - epsilon * epsCoef) / Math.Sqrt(Schedule.Alpha[t]);
        if (t == 1) return mean;
        ArgumentNullException.ThrowIfNull(z);
        return mean + z * SigmaAt(t);
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Enumerable.Range(1, Schedule.T).Reverse().ToArray(); // T..1
        return ReverseLoop.Run(model, shape, generator, steps, (x, epsilon, i) =>
        {
            int t = steps[i];
            return Step(x, epsilon, t, t > 1 ? randn(shape, generator: generator) : null);
        }, progress, cancellation, observe);
    }
}
