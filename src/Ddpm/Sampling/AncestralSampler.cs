using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// DDPM's ancestral sampler (Algorithm 2). With all T steps and no clipping it is the paper's ε-form update; with
/// <see cref="ClipX0"/> or fewer steps it uses the posterior-mean form of Ho et al.'s released code
/// (<c>p_sample(clip_denoised=True)</c>: x̂_0 clamped to [−1, 1], then the mean of q(x_{t−1} | x_t, x̂_0), eq. 7),
/// on a subsequence τ of the steps with the respaced β'_i = 1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}} (Nichol &amp; Dhariwal 2021 App. B).
/// </summary>
internal sealed class AncestralSampler : ISampler
{
    public NoiseSchedule Schedule { get; }
    public SigmaKind Sigma { get; }
    public bool ClipX0 { get; }
    /// <summary>τ_1 &lt; … &lt; τ_S, evenly spaced in 1..T with τ_S = T (all T by default).</summary>
    public IReadOnlyList<int> Timesteps { get; }
    public int Steps => Timesteps.Count;
    public IReadOnlyList<int> States => Timesteps.Reverse().Append(0).ToArray();

    public AncestralSampler(NoiseSchedule schedule, SigmaKind sigma = SigmaKind.Beta, int steps = 0, bool clipX0 = false)
    {
        Schedule = schedule;
        Sigma = sigma;
        ClipX0 = clipX0;
        Timesteps = StepSpacing.Even(schedule.T, steps, "ddpm");
    }

    /// <summary>σ_t for t in 1..T.</summary>
    public double SigmaAt(int t) => SigmaAt(t, t - 1);

    /// <summary>σ for the step t → previous: √β' (Beta) or √β̃' (BetaTilde), β' = 1 − ᾱ_t/ᾱ_previous.</summary>
    public double SigmaAt(int t, int previous)
    {
        double beta = 1 - Schedule.AlphaBar[t] / Schedule.AlphaBar[previous];
        return Math.Sqrt(Sigma == SigmaKind.Beta ? beta : (1 - Schedule.AlphaBar[previous]) / (1 - Schedule.AlphaBar[t]) * beta);
    }

    /// <summary>
    /// Algorithm 2, line 4: x_{t−1} = (x_t − (1 − α_t)/√(1 − ᾱ_t) · ε̂)/√α_t + σ_t z, with z = 0 at t = 1.
    /// </summary>
    /// <param name="z">Standard normal noise; ignored (may be null) at t = 1.</param>
    public Tensor Step(Tensor xt, Tensor epsilon, int t, Tensor? z)
    {
        if (t < 1 || t > Schedule.T) throw new ArgumentOutOfRangeException(nameof(t), $"t must be in 1..{Schedule.T}");
        if (ClipX0) return PosteriorStep(xt, epsilon, t, t - 1, z);
        double epsCoef = (1 - Schedule.Alpha[t]) / Math.Sqrt(1 - Schedule.AlphaBar[t]);
        var mean = (xt - epsilon * epsCoef) / Math.Sqrt(Schedule.Alpha[t]);
        if (t == 1) return mean;
        ArgumentNullException.ThrowIfNull(z);
        return mean + z * SigmaAt(t);
    }

    /// <summary>
    /// The posterior-mean form (Ho et al. 2020 eqs. 6, 7 and 15): x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t (clamped with
    /// <see cref="ClipX0"/>), μ̃ = √ᾱ_prev β'/(1 − ᾱ_t) · x̂_0 + √(ᾱ_t/ᾱ_prev)(1 − ᾱ_prev)/(1 − ᾱ_t) · x_t, then μ̃ + σ z
    /// (no noise when previous = 0). Without clipping it equals <see cref="Step"/> algebraically.
    /// </summary>
    public Tensor PosteriorStep(Tensor xt, Tensor epsilon, int t, int previous, Tensor? z)
    {
        double a = Schedule.AlphaBar[t], ap = Schedule.AlphaBar[previous], beta = 1 - a / ap;
        var x0 = ModelOutput.X0FromEpsilon(xt, epsilon, Math.Sqrt(a), Math.Sqrt(1 - a));
        if (ClipX0) x0 = x0.clamp(-1, 1);
        var mean = x0 * (Math.Sqrt(ap) * beta / (1 - a)) + xt * (Math.Sqrt(a / ap) * (1 - ap) / (1 - a));
        if (previous == 0) return mean;
        ArgumentNullException.ThrowIfNull(z);
        return mean + z * SigmaAt(t, previous);
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Timesteps.Reverse().ToArray(); // τ_S..τ_1
        bool exact = Steps == Schedule.T && !ClipX0;
        return ReverseLoop.Run(model, shape, generator, steps, (x, epsilon, i) =>
        {
            int t = steps[i], previous = i + 1 < steps.Length ? steps[i + 1] : 0;
            var z = previous > 0 ? randn(shape, generator: generator) : null;
            return exact ? Step(x, epsilon, t, z) : PosteriorStep(x, epsilon, t, previous, z);
        }, progress, cancellation, observe);
    }
}
