using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// DDIM (Song, Meng &amp; Ermon 2021): the same ε-model sampled on a subsequence τ_S &gt; … &gt; τ_1 of the T steps.
/// η = 0 is deterministic; η = 1 with S = T is DDPM's ancestral sampler with σ_t² = β̃_t.
/// </summary>
internal sealed class DdimSampler : ISampler
{
    public NoiseSchedule Schedule { get; }
    public double Eta { get; }
    public bool ClipX0 { get; }
    /// <summary>τ_1 &lt; … &lt; τ_S, evenly spaced in 1..T with τ_S = T.</summary>
    public IReadOnlyList<int> Timesteps { get; }
    public int Steps => Timesteps.Count;
    public IReadOnlyList<int> States => Timesteps.Reverse().Append(0).ToArray();

    /// <param name="clipX0">Clamp x̂_0 to the data range [-1, 1] before it is used, as Ho et al.'s released sampler and diffusers'
    /// clip_sample do. Schedules whose ᾱ_T is near 0 (cosine, sigmoid, simple-linear: ᾱ_T ≈ 10⁻⁹–10⁻⁶) divide ε̂'s error by
    /// √ᾱ_T in x̂_0 at the first steps; without the clamp an imperfect model's samples blow up.</param>
    public DdimSampler(NoiseSchedule schedule, int steps, double eta = 0, bool clipX0 = false)
    {
        if (steps == 0) throw new DdpmException($"DDIM steps must be in 1..{schedule.T}, got {steps}");
        if (eta < 0 || !double.IsFinite(eta)) throw new DdpmException($"DDIM eta must be >= 0, got {eta}");
        Schedule = schedule;
        Eta = eta;
        ClipX0 = clipX0;
        Timesteps = StepSpacing.Even(schedule.T, steps, "DDIM");
    }

    /// <summary>σ for the step τ_i → τ_{i−1} (eq. 16): η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev).</summary>
    public double SigmaAt(int t, int previous)
    {
        double a = Schedule.AlphaBar[t], ap = Schedule.AlphaBar[previous];
        return Eta * Math.Sqrt((1 - ap) / (1 - a)) * Math.Sqrt(1 - a / ap);
    }

    /// <summary>
    /// Eq. 12: x_prev = √ᾱ_prev x̂_0 + √(1 − ᾱ_prev − σ²) ε̂ + σ z, with x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t
    /// (clamped to [-1, 1] with <see cref="ClipX0"/>; ε̂ is used as predicted). <paramref name="previous"/> = 0 returns x̂_0.
    /// </summary>
    public Tensor Step(Tensor xt, Tensor epsilon, int t, int previous, Tensor? z)
    {
        double a = Schedule.AlphaBar[t], ap = Schedule.AlphaBar[previous], sigma = SigmaAt(t, previous);
        var x0 = ModelOutput.X0FromEpsilon(xt, epsilon, Math.Sqrt(a), Math.Sqrt(1 - a));
        if (ClipX0) x0 = x0.clamp(-1, 1);
        var direction = epsilon * Math.Sqrt(Math.Max(1 - ap - sigma * sigma, 0));
        var next = x0 * Math.Sqrt(ap) + direction;
        if (sigma == 0) return next;
        ArgumentNullException.ThrowIfNull(z);
        return next + z * sigma;
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Timesteps.Reverse().ToArray(); // τ_S..τ_1
        return ReverseLoop.Run(model, shape, generator, steps, (x, epsilon, i) =>
        {
            int t = steps[i], previous = i + 1 < steps.Length ? steps[i + 1] : 0;
            return Step(x, epsilon, t, previous, SigmaAt(t, previous) > 0 ? randn(shape, generator: generator) : null);
        }, progress, cancellation, observe);
    }
}
