using Ddpm.Diffusion;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// The DDIM form of gamma sampling (Nachmani et al. 2021, their few-step results; <c>generalized_gamma</c> in the authors'
/// fork of ermongroup/ddim): DDIM's eq. 12 on τ_S &gt; … &gt; τ_1, x_prev = √ᾱ_prev x̂_0 + √(1 − ᾱ_prev − σ²) ε̂ + σ z̃, from
/// x_T = ḡ − k̄_T θ_T, where the stochastic part z̃ is standardised gamma noise drawn at the state the step goes to,
/// (z − k̄_prev θ_prev)/√(1 − ᾱ_prev), z ~ Γ(k̄_prev, θ_prev). η = 0 (the default) is deterministic after the gamma start;
/// η = 1 with all steps is DDPM's posterior (σ² = β̃_t) with gamma noise.
/// </summary>
internal sealed class GammaDdimSampler : ISampler
{
    private readonly DdimSampler _ddim;

    public GammaDiffusion Process { get; }
    public double Eta => _ddim.Eta;
    public IReadOnlyList<int> Timesteps => _ddim.Timesteps;
    public int Steps => _ddim.Steps;
    public IReadOnlyList<int> States => _ddim.States;

    public GammaDdimSampler(GammaDiffusion process, int steps, double eta = 0, bool clipX0 = false)
    {
        Process = process;
        _ddim = new DdimSampler(process.Schedule, steps, eta, clipX0);
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Timesteps.Reverse().ToArray();
        return ReverseLoop.Run(model, shape, generator, steps, (x, epsilon, i) =>
        {
            int t = steps[i], previous = i + 1 < steps.Length ? steps[i + 1] : 0;
            return _ddim.Step(x, epsilon, t, previous, _ddim.SigmaAt(t, previous) > 0 ? Process.StandardizedNoise(shape, previous, generator) : null);
        }, progress, cancellation, observe, start: () => Process.Start(shape, generator));
    }
}
