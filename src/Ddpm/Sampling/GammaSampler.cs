using Ddpm.Diffusion;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// The reverse process of Denoising Diffusion Gamma Models (Nachmani et al. 2021, Algorithm 2): x_T = ḡ − k̄_T θ_T with
/// ḡ ~ Γ(k̄_T, θ_T), then DDPM's update x_{t−1} = (x_t − (1 − α_t)/√(1 − ᾱ_t) ε_θ)/√α_t + σ_t z̃, σ_t = √β_t, where z̃ is
/// gamma noise instead of a Gaussian (z̃ = 0 at the last step). z̃ is drawn at the state the step goes to:
/// (z − k̄_{t−1} θ_{t−1})/√(1 − ᾱ_{t−1}), z ~ Γ(k̄_{t−1}, θ_{t−1}), zero mean and unit variance, as the authors' code draws it
/// (<c>generalized_gamma</c> in their fork of ermongroup/ddim: shape <c>k_bar[j]</c>, scale <c>theta[j]</c>, divided by
/// <c>sqrt(1 - a[j])</c>, j the next step).
/// With fewer steps S &lt; T it runs on τ_S &gt; … &gt; τ_1 (as DDIM picks them) with the respaced β'_i = 1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}}
/// (Nichol &amp; Dhariwal 2021, §4): an approximation the paper does not cover; S = T is the paper's algorithm.
/// </summary>
internal sealed class GammaSampler : ISampler
{
    public GammaDiffusion Process { get; }
    /// <summary>τ_1 &lt; … &lt; τ_S.</summary>
    public IReadOnlyList<int> Timesteps { get; }
    public int Steps => Timesteps.Count;
    public IReadOnlyList<int> States => Timesteps.Reverse().Append(0).ToArray();

    public GammaSampler(GammaDiffusion process, int steps = 0)
    {
        Process = process;
        Timesteps = StepSpacing.Even(process.Schedule.T, steps, "gamma sampler");
    }

    /// <summary>One reverse step t → previous (previous = t − 1 in the paper's algorithm).</summary>
    /// <param name="z">Standardised gamma noise at <paramref name="previous"/>; ignored (may be null) when previous = 0.</param>
    public Tensor Step(Tensor xt, Tensor epsilon, int t, int previous, Tensor? z)
    {
        var s = Process.Schedule;
        double alpha = s.AlphaBar[t] / s.AlphaBar[previous], beta = 1 - alpha;
        var mean = (xt - epsilon * (beta / Math.Sqrt(1 - s.AlphaBar[t]))) / Math.Sqrt(alpha);
        if (previous == 0) return mean;
        ArgumentNullException.ThrowIfNull(z);
        return mean + z * Math.Sqrt(beta);
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Timesteps.Reverse().ToArray();
        return ReverseLoop.Run(model, shape, generator, steps, (x, epsilon, i) =>
        {
            int t = steps[i], previous = i + 1 < steps.Length ? steps[i + 1] : 0;
            return Step(x, epsilon, t, previous, previous > 0 ? Process.StandardizedNoise(shape, previous, generator) : null);
        }, progress, cancellation, observe, start: () => Process.Start(shape, generator));
    }
}
