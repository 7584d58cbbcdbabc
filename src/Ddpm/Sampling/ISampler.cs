using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// A reverse-process sampler: owns its step rule and loops the model over the steps. The model is
/// any ε-predictor (x_t, t) → ε̂; DDPM's ancestral sampler is one, DDIM can sit beside it.
/// </summary>
internal interface ISampler
{
    /// <summary>Draws images of <paramref name="shape"/> [N, C, H, W] in [-1, 1].</summary>
    /// <param name="progress">Receives the number of denoising steps done so far.</param>
    /// <param name="observe">Called with (t, x_t) for x_T and after every step (t = 0 last, before clamping); the tensor is valid only during the call.</param>
    Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null);

    /// <summary>Number of model evaluations per image.</summary>
    int Steps { get; }

    /// <summary>The t of every state the sampler passes through, x_T first and x_0 (t = 0) last: Steps + 1 values.</summary>
    IReadOnlyList<int> States { get; }
}
