using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Channels-last (NHWC) memory layout. libtorch 2.10 in TorchSharp 0.107 computes wrong (even NaN)
/// input gradients for some fp32 convolutions in the default NCHW layout on this CPU; the same layers
/// in channels-last are correct (guarded by a gradient test against float64). TorchSharp has no
/// memory_format API, so the layout is produced by a permute round trip; libtorch carries it through.
/// </summary>
public static class Layout
{
    public static Tensor ToChannelsLast(Tensor x) =>
        x.dim() == 4 ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;

    public static bool IsChannelsLast(Tensor x) =>
        x.dim() == 4 && x.stride(1) == 1 && x.stride(3) == x.shape[1];

    /// <summary>Re-lays out every 4-D parameter of a module in place.</summary>
    public static void ToChannelsLast(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var p in module.parameters())
            if (p.dim() == 4 && !IsChannelsLast(p))
            {
                using var relaid = ToChannelsLast(p.detach());
                p.set_(relaid);
            }
    }
}
