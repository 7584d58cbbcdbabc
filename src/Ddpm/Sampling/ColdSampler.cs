using Ddpm.Diffusion;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// Cold Diffusion's improved sampling (Bansal et al. 2022, Algorithm 2): x̂_0 = R(x_t, t), then
/// x_{t−1} = x_t − D(x̂_0, t) + D(x̂_0, t − 1). With a perfect restorer the sum telescopes to x_0 from any start, and the
/// rule holds between any two severities, so S &lt; T steps run on τ_S &gt; … &gt; τ_1 (spaced as in DDIM). A degradation
/// towards an end state uses the start as x_end, as the authors' code does (<c>x2_bar = orig</c>).
/// </summary>
internal sealed class ColdSampler : ISampler
{
    public ColdDiffusion Process { get; }
    public IReadOnlyList<int> Timesteps { get; }
    public int Steps => Timesteps.Count;
    public IReadOnlyList<int> States => Timesteps.Reverse().Append(0).ToArray();
    /// <summary>Subtract the start's perturbation from the result (default: what the process's version does).</summary>
    public bool RemovesPerturbation { get; }

    public ColdSampler(ColdDiffusion process, int steps = 0, bool? removePerturbation = null)
    {
        Process = process;
        Timesteps = StepSpacing.Even(process.T, steps, "cold sampler");
        RemovesPerturbation = removePerturbation ?? process.RemovesPerturbation;
    }

    /// <summary>x_prev = x_t − D(x̂_0, t) + D(x̂_0, prev); D(x̂_0, 0) = x̂_0.</summary>
    public Tensor Step(Tensor xt, Tensor x0Hat, int t, int previous, Tensor? end = null) =>
        xt - Process.Degrade(x0Hat, t, end) + (previous == 0 ? x0Hat : Process.Degrade(x0Hat, previous, end));

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null) =>
        SampleFrom(model, () => Process.Start(shape, generator), shape, generator, progress, cancellation, observe);

    /// <summary>Runs the reverse process from a given x_T (e.g. D(x_0, T) of a real image).</summary>
    public Tensor SampleFrom(nn.Module<Tensor, Tensor, Tensor> model, Func<Tensor> start, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null) =>
        SampleFrom(model, () => new ColdStart(start(), null), shape, generator, progress, cancellation, observe);

    /// <summary>Runs the reverse process from x_T = x_end + δ z; δ z is subtracted from the result when <see cref="RemovesPerturbation"/>.</summary>
    public Tensor SampleFrom(nn.Module<Tensor, Tensor, Tensor> model, Func<ColdStart> start, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        using var scope = NewDisposeScope();
        var (xT, perturbation) = start();
        var end = perturbation is null ? xT : xT - perturbation;
        var steps = Timesteps.Reverse().ToArray();
        var images = ReverseLoop.Run(model, shape, generator, steps, (x, x0Hat, i) =>
        {
            bool last = i + 1 == steps.Length;
            var next = Step(x, x0Hat, steps[i], last ? 0 : steps[i + 1], end);
            return last && RemovesPerturbation && perturbation is not null ? next - perturbation : next;
        }, progress, cancellation, observe, () => xT.clone());
        return images.MoveToOuterDisposeScope();
    }
}
