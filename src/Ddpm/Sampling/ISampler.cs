using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// A reverse-process sampler: owns its step rule and loops the model over the steps. The model is
/// any ε-predictor (x_t, t) → ε̂; DDPM's ancestral sampler is one, DDIM can sit beside it.
/// </summary>
public interface ISampler
{
    /// <summary>Draws images of <paramref name="shape"/> [N, C, H, W] in [-1, 1].</summary>
    /// <param name="progress">Receives the number of denoising steps done so far.</param>
    Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default);

    /// <summary>Number of model evaluations per image.</summary>
    int Steps { get; }
}
