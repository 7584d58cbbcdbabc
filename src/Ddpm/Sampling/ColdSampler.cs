using Ddpm.Diffusion;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// Cold Diffusion's improved sampling (Bansal et al. 2022, Algorithm 2): x̂_0 = R(x_t, t), then
/// x_{t−1} = x_t − D(x̂_0, t) + D(x̂_0, t − 1). With a perfect restorer the sum telescopes to x_0 from any start, and the
/// rule holds between any two severities, so S &lt; T steps run on τ_S &gt; … &gt; τ_1 (spaced as in DDIM).
/// </summary>
public sealed class ColdSampler : ISampler
{
    public ColdDiffusion Process { get; }
    public IReadOnlyList<int> Timesteps { get; }
    public int Steps => Timesteps.Count;
    public IReadOnlyList<int> States => Timesteps.Reverse().Append(0).ToArray();

    public ColdSampler(ColdDiffusion process, int steps = 0)
    {
        Process = process;
        Timesteps = StepSpacing.Even(process.T, steps, "cold sampler");
    }

    /// <summary>x_prev = x_t − D(x̂_0, t) + D(x̂_0, prev); D(x̂_0, 0) = x̂_0.</summary>
    public Tensor Step(Tensor xt, Tensor x0Hat, int t, int previous) =>
        xt - Process.Degrade(x0Hat, t) + (previous == 0 ? x0Hat : Process.Degrade(x0Hat, previous));

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null) =>
        SampleFrom(model, () => Process.Start(shape, generator), shape, generator, progress, cancellation, observe);

    /// <summary>Runs the reverse process from a given x_T (e.g. D(x_0, T) of a real image).</summary>
    public Tensor SampleFrom(nn.Module<Tensor, Tensor, Tensor> model, Func<Tensor> start, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Timesteps.Reverse().ToArray();
        return ReverseLoop.Run(model, shape, generator, steps, (x, x0Hat, i) =>
            Step(x, x0Hat, steps[i], i + 1 < steps.Length ? steps[i + 1] : 0), progress, cancellation, observe, start);
    }
}
