using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// The loop every sampler shares: x_T ~ N(0, I) (or the sampler's own start), then for each step a model call ε̂ = ε_θ(x_t, t) and the
/// sampler's own update, each step in its own dispose scope so memory stays flat; the result is clamped to [-1, 1].
/// </summary>
internal static class ReverseLoop
{
    /// <param name="steps">The t of each model call, in the order they run (descending).</param>
    /// <param name="update">(x_t, model output, index into <paramref name="steps"/>) → the next x.</param>
    /// <param name="start">Draws x_T; default standard normal.</param>
    public static Tensor Run(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator, IReadOnlyList<int> steps,
        Func<Tensor, Tensor, int, Tensor> update, IProgress<int>? progress, CancellationToken cancellation, Action<int, Tensor>? observe = null,
        Func<Tensor>? start = null)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            Tensor x;
            using (var startScope = NewDisposeScope())
                x = (start is null ? randn(shape, generator: generator) : start()).contiguous().MoveToOuterDisposeScope(); // x_T
            observe?.Invoke(steps.Count > 0 ? steps[0] : 0, x);
            for (int i = 0; i < steps.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var epsilon = model.forward(x, full(shape[0], steps[i], ScalarType.Int64));
                var next = update(x, epsilon, i).contiguous().MoveToOuterDisposeScope();
                x.Dispose();
                x = next;
                observe?.Invoke(i + 1 < steps.Count ? steps[i + 1] : 0, x);
                progress?.Report(i + 1);
            }
            var images = x.clamp(-1, 1);
            x.Dispose();
            return images;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
