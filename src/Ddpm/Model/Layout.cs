using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Channels-last (NHWC) memory layout. libtorch 2.10 in TorchSharp 0.107 computes wrong (even NaN)
/// input gradients for some fp32 convolutions in the default NCHW layout on this CPU; with a
/// channels-last input the same layers are correct (guarded by a gradient test against float64).
/// A convolution of a channels-last input returns a channels-last output, so converting the network's
/// input is enough: the layout carries through every layer, and parameters stay contiguous (which
/// TorchSharp's save/load and optimizer state need). TorchSharp has no memory_format API, so the layout
/// is produced by a permute round trip.
/// </summary>
public static class Layout
{
    public static Tensor ToChannelsLast(Tensor x) =>
        x.dim() == 4 ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;

    public static bool IsChannelsLast(Tensor x) =>
        x.dim() == 4 && x.stride(1) == 1 && x.stride(3) == x.shape[1];
}
