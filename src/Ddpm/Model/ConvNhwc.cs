using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// A 2-D convolution that always runs in channels-last layout: input and weight are laid out NHWC
/// for the call, while the stored weight stays contiguous (TorchSharp's save/load and the optimizer's
/// state need contiguous tensors). See <see cref="Layout"/> for why; a 1-channel input alone cannot
/// select the layout, so the weight must carry it.
/// </summary>
public sealed class ConvNhwc : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly long[] _stride;
    private readonly long[] _padding;

    public ConvNhwc(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0) : base(nameof(ConvNhwc))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding);
        _stride = [stride, stride];
        _padding = [padding, padding];
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Other dtypes (a float64 reference copy in tests) run in the default layout.
        if (x.dtype != ScalarType.Float32) return conv.forward(x);
        return nn.functional.conv2d(Layout.ToChannelsLast(x), Layout.ToChannelsLast(conv.weight!), conv.bias, _stride, _padding, [1, 1], 1);
    }
}
