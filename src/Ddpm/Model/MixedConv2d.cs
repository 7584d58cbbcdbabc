using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// A 2-D convolution in the precision asked for and in a layout that libtorch 2.10 computes correctly on this CPU. With two or
/// more channels in and out it runs in the default NCHW layout (bf16 as PyTorch's CPU autocast runs it: input and weight cast)
/// where <see cref="ConvolutionCheck"/> finds that layout correct for its precision, else in channels-last (see
/// <see cref="Layout"/>: the default layout computed wrong results on one machine); 1-channel convolutions always run in
/// channels-last, where a 1-channel input alone cannot select the layout, so the weight carries it. The stored weight stays contiguous (TorchSharp's
/// save/load and the optimizer's state need that), and the output goes back to the default layout: libtorch's GroupNorm
/// and elementwise backward ran up to 15× slower on channels-last tensors than the copy costs.
/// </summary>
internal sealed class MixedConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly long[] _stride;
    private readonly long[] _padding;
    private readonly bool _multiChannel;

    public MixedConv2d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0) : base(nameof(MixedConv2d))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding);
        _stride = [stride, stride];
        _padding = [padding, padding];
        _multiChannel = inChannels >= 2 && outChannels >= 2;
        RegisterComponents();
    }

    /// <summary>
    /// The precision the convolution computes in. With bf16, the fp32 weight and input are cast for the
    /// call only (the cast is part of the autograd graph, so gradients reach the fp32 master weights in
    /// fp32) and the output is returned in fp32, so normalisation, residual sums and the loss stay fp32:
    /// the split that PyTorch's CPU autocast makes by hand.
    /// A convolution with a single input or output channel always runs in fp32: libtorch 2.10's bf16
    /// convolution computed wrong outputs (67 % error with 1 input channel) and input gradients (up to 1e9
    /// relative error with 1 output channel) for them, in either layout (measured against float64; with
    /// 1 channel the channels-last layout cannot be told apart from the default one). Those layers (the
    /// U-Net's first and last) cost under 1 % of the FLOPs.
    /// </summary>
    public Precision Precision { get; set; } = Precision.Fp32;

    /// <summary>Weight and bias set to 0 (Ho et al.'s <c>init_scale=0</c>): the layer starts as a zero map.</summary>
    public void ZeroInitialize()
    {
        using var _ = no_grad();
        conv.weight!.zero_();
        conv.bias?.zero_();
    }

    public override Tensor forward(Tensor x)
    {
        const ScalarType bf16 = ScalarType.BFloat16;
        // Other dtypes (a float64 reference copy in tests) run in the default layout; so do other devices than the CPU, where
        // libtorch 2.10's layout and bf16 problems (docs/platform.md) were seen, with bf16 casting as asked.
        if (x.dtype != ScalarType.Float32) return conv.forward(x);
        bool cpu = Runtime.Devices.IsCpu(x);
        bool defaultLayout = !cpu || (_multiChannel && ConvolutionCheck.DefaultLayoutIsCorrect(Precision));
        if (Precision == Precision.Bf16 && defaultLayout)
            return nn.functional.conv2d(x.to(bf16), conv.weight!.to(bf16), conv.bias?.to(bf16), _stride, _padding, [1, 1], 1).to(ScalarType.Float32);
        if (defaultLayout) return conv.forward(x); // fp32 (every device but the CPU takes this layout)
        if (Precision == Precision.Bf16 && _multiChannel)
        {
            return nn.functional.conv2d(Layout.ToChannelsLast(x).to(bf16), Layout.ToChannelsLast(conv.weight!).to(bf16), conv.bias?.to(bf16), _stride, _padding, [1, 1], 1)
                .to(ScalarType.Float32).contiguous();
        }
        return nn.functional.conv2d(Layout.ToChannelsLast(x), Layout.ToChannelsLast(conv.weight!), conv.bias, _stride, _padding, [1, 1], 1).contiguous();
    }
}
