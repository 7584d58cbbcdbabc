using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Channels-last (NHWC) memory layout. libtorch 2.10 in TorchSharp 0.107 computes wrong (even NaN)
/// input gradients for some fp32 convolutions in the default NCHW layout on this CPU; in channels-last
/// the same layers are correct (guarded by a gradient test against float64). <see cref="MixedConv2d"/> applies
/// it to input and weight of every convolution. TorchSharp has no memory_format API, so the layout is
/// produced by a permute round trip; a tensor already in channels-last is returned without a copy.
/// </summary>
internal static class Layout
{
    public static Tensor ToChannelsLast(Tensor x) =>
        x.dim() == 4 ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;
}
