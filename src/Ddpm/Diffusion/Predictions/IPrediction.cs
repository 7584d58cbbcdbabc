using static TorchSharp.torch;

namespace Ddpm.Diffusion.Predictions;

/// <summary>
/// What the network regresses for Gaussian noise (diffusers' <c>prediction_type</c>). With x_t = α_t x_0 + σ_t ε,
/// α_t = √ᾱ_t and σ_t = √(1 − ᾱ_t), every parameterisation is a linear map of (x_0, ε), and one place
/// (<see cref="ModelOutput"/>) turns the network's output back into x̂_0 and ε̂ for every sampler.
/// Adding a parameterisation is one class here plus one entry in <see cref="PredictionTypes"/>.
/// </summary>
internal interface IPrediction
{
    /// <summary>The name stored in a checkpoint's config ("eps", "v").</summary>
    string Name { get; }

    /// <summary>The regression target for clean images x_0 and their noise ε; α and σ broadcast per example ([B, 1, 1, 1]).</summary>
    Tensor Target(Tensor x0, Tensor epsilon, Tensor alpha, Tensor sigma);

    /// <summary>ε̂ from the network output at x_t (α, σ scalars or per-example tensors).</summary>
    Tensor ToEpsilon(Tensor xt, Tensor output, Tensor alpha, Tensor sigma);

    /// <summary>
    /// Min-SNR-γ loss weight (Hang et al. 2023, eq. 6 and §3.4) for this target at SNR = α²/σ²: the weight that makes the
    /// loss equal min(SNR, γ)·‖x_0 − x̂_0‖².
    /// </summary>
    Tensor MinSnrWeight(Tensor snr, double gamma);
}
