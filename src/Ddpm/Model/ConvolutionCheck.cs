using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Whether libtorch's convolution in the default (NCHW) layout is correct on this CPU, in bf16 and in fp32, each checked once per
/// process against float64 when first needed. libtorch 2.10 computed wrong convolutions in the default layout on one machine
/// of this project (bf16 outputs and fp32 input gradients far off float64) and correct ones on another, where that layout
/// trained 1.3× and sampled 1.4× faster in bf16 than the channels-last detour (BENCHMARKS.md): so <see cref="MixedConv2d"/>
/// takes the default layout only where this check passes.
/// </summary>
internal static class ConvolutionCheck
{
    private static readonly Lazy<bool> Bf16Nchw = new(() => Matches(
        (x, w, b, stride, padding) => nn.functional.conv2d(x.to(ScalarType.BFloat16), w.to(ScalarType.BFloat16), b.to(ScalarType.BFloat16),
            [stride, stride], [padding, padding], [1, 1], 1).to(ScalarType.Float32)));

    private static readonly Lazy<bool> Fp32Nchw = new(() => Matches(
        (x, w, b, stride, padding) => nn.functional.conv2d(x, w, b, [stride, stride], [padding, padding], [1, 1], 1)));

    /// <summary>Convolutions in <paramref name="precision"/> with at least two input and output channels are correct in the default layout here.</summary>
    public static bool DefaultLayoutIsCorrect(Precision precision) => (precision == Precision.Bf16 ? Bf16Nchw : Fp32Nchw).Value;

    /// <summary>The shapes the U-Net's convolutions take: 3×3 at three resolutions, strided, and 1×1 projections.</summary>
    private static readonly (int In, int Out, int Kernel, int Stride, int Size)[] Shapes =
        [(32, 32, 3, 1, 28), (96, 32, 3, 1, 28), (32, 32, 3, 2, 28), (64, 64, 3, 1, 14), (128, 64, 1, 1, 14), (64, 64, 3, 1, 7)];

    /// <summary>
    /// True when <paramref name="conv"/> (fp32 input, weight and bias → fp32 output, autograd through it) gives outputs, input
    /// gradients and weight gradients within bf16 rounding (2 %; the errors seen were 40 % to NaN) of float64, finite, on every
    /// shape, three times (the errors seen were intermittent). Uses its own generator, so the global random state is untouched.
    /// </summary>
    internal static bool Matches(Func<Tensor, Tensor, Tensor, long, long, Tensor> conv)
    {
        using var enabled = enable_grad();
        using var scope = NewDisposeScope();
        using var generator = new Generator(20_261_207);
        foreach (var (cin, cout, k, stride, size) in Shapes)
            for (int repeat = 0; repeat < 3; repeat++)
            {
                using var inner = NewDisposeScope();
                var w = (randn([cout, cin, k, k], generator: generator, device: CPU) / Math.Sqrt(cin * k * k)).requires_grad_(true);
                var b = randn([cout], generator: generator, device: CPU) * 0.1;
                var x = randn([4, cin, size, size], generator: generator, device: CPU).requires_grad_(true);
                var y = conv(x, w, b, stride, k / 2);
                var upstream = randn(y.shape, generator: generator, device: CPU);
                (y * upstream).sum().backward();
                var (w64, x64) = (w.detach().to(ScalarType.Float64).requires_grad_(true), x.detach().to(ScalarType.Float64).requires_grad_(true));
                var y64 = nn.functional.conv2d(x64, w64, b.to(ScalarType.Float64), [stride, stride], [k / 2, k / 2]);
                (y64 * upstream.to(ScalarType.Float64)).sum().backward();
                if (!(Close(y, y64) && Close(x.grad!, x64.grad!) && Close(w.grad!, w64.grad!))) return false;
            }
        return true;
    }

    private static bool Close(Tensor got, Tensor reference)
    {
        double error = (got.to(ScalarType.Float64) - reference).norm().item<double>() / Math.Max(reference.norm().item<double>(), 1e-12);
        return error < 2e-2; // NaN fails too
    }
}
