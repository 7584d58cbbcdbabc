using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Training;

/// <summary>
/// A module's parameters re-seated as views into one flat buffer (libtorch's <c>set_</c>), and optionally their gradients as
/// views into a second one, so that an update of every parameter is one op on the flat tensor instead of one op per
/// parameter: TorchSharp 0.107 has no multi-tensor optimizer, and AdamW, clipping and the EMA were ~80 small ops each.
/// The module keeps its Parameter objects, names and shapes, so saving, loading and state dicts are unchanged; autograd
/// accumulates into an existing gradient in place, so the gradient views stay views as long as they are zeroed, not dropped.
/// </summary>
internal sealed class FlatParameters : IDisposable
{
    /// <summary>All parameters, in <see cref="Parameters"/>' order, as one 1-D tensor.</summary>
    public Tensor Values { get; }
    /// <summary>Their gradients, laid out as <see cref="Values"/> (null when bound without gradients).</summary>
    public Tensor? Grads { get; }
    public IReadOnlyList<Parameter> Parameters { get; }

    private readonly long[] _offsets;

    private FlatParameters(Tensor values, Tensor? grads, IReadOnlyList<Parameter> parameters, long[] offsets) =>
        (Values, Grads, Parameters, _offsets) = (values, grads, parameters, offsets);

    /// <summary>Copies the parameters into a new flat buffer and makes each parameter a view of its slice.</summary>
    public static FlatParameters Bind(IEnumerable<Parameter> parameters, bool withGrads)
    {
        var list = parameters.ToList();
        if (list.Count == 0) throw new ArgumentException("no parameters to bind", nameof(parameters));
        var (dtype, device) = (list[0].dtype, list[0].device);
        if (list.Any(p => p.dtype != dtype || p.device.type != device.type || p.device.index != device.index))
            throw new ArgumentException("parameters of one flat buffer must share dtype and device", nameof(parameters));
        var offsets = new long[list.Count + 1];
        for (int i = 0; i < list.Count; i++) offsets[i + 1] = offsets[i] + list[i].numel();

        using var _ = no_grad();
        var values = empty(offsets[^1], dtype: dtype, device: device).DetachFromDisposeScope();
        var grads = withGrads ? zeros(offsets[^1], dtype: dtype, device: device).DetachFromDisposeScope() : null;
        for (int i = 0; i < list.Count; i++)
        {
            var p = list[i];
            using var view = Slice(values, offsets, i, p.shape);
            view.copy_(p);
            var same = p.set_(view);
            if (!ReferenceEquals(same, p)) same.Dispose(); // another handle to p's tensor, if TorchSharp made one
            if (grads is not null)
            {
                using var g = Slice(grads, offsets, i, p.shape);
                p.grad = g;
            }
        }
        return new FlatParameters(values, grads, list, offsets);
    }

    /// <summary>Views of <paramref name="flat"/> (laid out as <see cref="Values"/>) shaped as each parameter, in order.</summary>
    public Tensor[] ViewsOf(Tensor flat) => [.. Parameters.Select((p, i) => Slice(flat, _offsets, i, p.shape))];

    private static Tensor Slice(Tensor flat, long[] offsets, int i, long[] shape) =>
        flat.narrow(0, offsets[i], offsets[i + 1] - offsets[i]).view(shape);

    public void Dispose()
    {
        Values.Dispose();
        Grads?.Dispose();
    }
}
