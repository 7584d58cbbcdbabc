using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Sinusoidal position embedding of the step t (Vaswani et al. 2017, as in Ho et al. 2020 §4)
/// followed by a two-layer MLP; the result is added inside every residual block.
/// </summary>
internal sealed class TimeEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly int _dim;
    private readonly Linear fc1;
    private readonly Linear fc2;

    public TimeEmbedding(int dim, int outDim) : base(nameof(TimeEmbedding))
    {
        if (dim % 2 != 0) throw new ArgumentException("embedding width must be even", nameof(dim));
        _dim = dim;
        fc1 = nn.Linear(dim, outDim);
        fc2 = nn.Linear(outDim, outDim);
        RegisterComponents();
    }

    /// <summary>[B] int64 steps → [B, dim]: sin(t·ω_i) ‖ cos(t·ω_i), ω_i = 10000^(−i/(dim/2)).</summary>
    public static Tensor Sinusoidal(Tensor t, int dim)
    {
        int half = dim / 2;
        var freqs = exp(arange(half, dtype: ScalarType.Float32) * (-Math.Log(10000.0) / half));
        var args = t.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        return cat([sin(args), cos(args)], 1);
    }

    public override Tensor forward(Tensor t) =>
        fc2.call(nn.functional.silu(fc1.call(Sinusoidal(t, _dim).to(fc1.weight!.dtype))));
}
