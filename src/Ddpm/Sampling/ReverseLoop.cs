using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// The loop every sampler shares: the model in evaluation mode without autograd, a start x_T, then each step in its own
/// dispose scope (only the new state outlives it, so memory stays flat), the result clamped to [-1, 1].
/// </summary>
internal static class ReverseLoop
{
    /// <summary>The bare walk: <paramref name="step"/> (x, index) → next x may call the model any number of times.</summary>
    /// <param name="observe">(state index, x): 0 for x_T, i + 1 after step i; the tensor is valid only during the call.</param>
    public static Tensor Walk(nn.Module<Tensor, Tensor, Tensor> model, Func<Tensor> start, int count, Func<Tensor, int, Tensor> step,
        CancellationToken cancellation, Action<int, Tensor>? observe = null)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            Tensor x;
            using (var startScope = NewDisposeScope())
                x = start().contiguous().MoveToOuterDisposeScope();
            observe?.Invoke(0, x);
            for (int i = 0; i < count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var next = step(x, i).contiguous().MoveToOuterDisposeScope();
                x.Dispose();
                x = next;
                observe?.Invoke(i + 1, x);
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

    /// <summary>One model call per step: ε̂ = ε_θ(x_t, t) (or the model's own output), then the sampler's update.</summary>
    /// <param name="steps">The t of each model call, in the order they run (descending).</param>
    /// <param name="update">(x_t, model output, index into <paramref name="steps"/>) → the next x.</param>
    /// <param name="observe">Called with (t, x_t) for x_T and after every step (t = 0 last).</param>
    /// <param name="start">Draws x_T; default standard normal.</param>
    public static Tensor Run(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator, IReadOnlyList<int> steps,
        Func<Tensor, Tensor, int, Tensor> update, IProgress<int>? progress, CancellationToken cancellation, Action<int, Tensor>? observe = null,
        Func<Tensor>? start = null) =>
        Walk(model, start ?? (() => randn(shape, generator: generator)), steps.Count, (x, i) =>
        {
            var output = model.forward(x, full(shape[0], steps[i], ScalarType.Int64));
            var next = update(x, output, i);
            progress?.Report(i + 1);
            return next;
        }, cancellation, observe is null ? null : (k, x) => observe(k < steps.Count ? steps[k] : 0, x));
}
