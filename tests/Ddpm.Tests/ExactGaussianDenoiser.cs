using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>
/// The exact ε-model of Gaussian data x_0 ~ N(μ, s²) per pixel under q(x_t | x_0) = N(α_t x_0, σ_t² I), α_t = √ᾱ_t,
/// σ_t = √(1 − ᾱ_t): E[x_0 | x_t] = μ + α_t s²/(α_t² s² + σ_t²)·(x_t − α_t μ) (the VP form of D(x; σ) = μ + s²/(s² + σ²)(x − μ)),
/// ε̂ = (x_t − α_t E[x_0 | x_t])/σ_t. A perfect model: any correct sampler must return N(μ, s²).
/// </summary>
internal sealed class ExactGaussianDenoiser(NoiseSchedule schedule, double mu, double s) : nn.Module<Tensor, Tensor, Tensor>("ExactGaussian")
{
    public override Tensor forward(Tensor x, Tensor t)
    {
        var ab = t.data<long>().Select(k => schedule.AlphaBar[k]).ToArray();
        var alpha = tensor(ab.Select(Math.Sqrt).ToArray()).to(ScalarType.Float32).view(-1, 1, 1, 1);
        var sigma = tensor(ab.Select(a => Math.Sqrt(1 - a)).ToArray()).to(ScalarType.Float32).view(-1, 1, 1, 1);
        var x0 = mu + alpha * (s * s) / (alpha * alpha * (s * s) + sigma * sigma) * (x - alpha * mu);
        return (x - alpha * x0) / sigma;
    }
}

/// <summary>The same exact model answering in v = α ε − σ x_0 (what a v-prediction network outputs).</summary>
internal sealed class ExactGaussianV(NoiseSchedule schedule, double mu, double s) : nn.Module<Tensor, Tensor, Tensor>("ExactGaussianV")
{
    private readonly ExactGaussianDenoiser _eps = new(schedule, mu, s);

    public override Tensor forward(Tensor x, Tensor t)
    {
        var ab = t.data<long>().Select(k => schedule.AlphaBar[k]).ToArray();
        var alpha = tensor(ab.Select(Math.Sqrt).ToArray()).to(ScalarType.Float32).view(-1, 1, 1, 1);
        var sigma = tensor(ab.Select(a => Math.Sqrt(1 - a)).ToArray()).to(ScalarType.Float32).view(-1, 1, 1, 1);
        var eps = _eps.forward(x, t);
        var x0 = (x - sigma * eps) / alpha;
        return alpha * eps - sigma * x0;
    }
}
