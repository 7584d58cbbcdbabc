using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>Conversion between model-space tensors in [-1, 1] and 8-bit pixels.</summary>
internal static class ImageBytes
{
    /// <summary>A tensor in [-1, 1] (on any device) → bytes in its logical (row-major) order, value = round((x + 1) · 127.5).</summary>
    public static byte[] ToBytes(Tensor images)
    {
        using var scope = NewDisposeScope();
        var u8 = images.detach().cpu().to(ScalarType.Float32).add(1).mul(127.5).round().clamp(0, 255).to(ScalarType.Byte).contiguous();
        return u8.data<byte>().ToArray();
    }
}
