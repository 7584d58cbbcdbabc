using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>Multi-head self-attention over the pixels of a feature map, with a residual connection.</summary>
internal sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly int _heads;
    private readonly GroupNorm norm;
    private readonly MixedConv2d qkv;
    private readonly MixedConv2d proj;

    public SelfAttention(int channels, int headWidth = 32) : base(nameof(SelfAttention))
    {
        _heads = Math.Max(1, channels / headWidth);
        if (channels % _heads != 0) throw new ArgumentException("channels must divide into heads", nameof(channels));
        norm = nn.GroupNorm(UNetConfig.GroupsFor(channels), channels);
        qkv = new MixedConv2d(channels, 3 * channels, 1);
        proj = new MixedConv2d(channels, channels, 1);
        RegisterComponents();
    }

    /// <summary>Zero-initialises the output projection, so the layer starts as the identity (Ho et al. 2020's released U-Net).</summary>
    public void ZeroInitializeOutput() => proj.ZeroInitialize();

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        // [B, 3C, H, W] → 3 × [B, heads, HW, C/heads]
        var parts = qkv.call(norm.call(x)).reshape(b, 3, _heads, c / _heads, h * w).permute(1, 0, 2, 4, 3).unbind(0);
        var attended = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]);
        var merged = attended.permute(0, 1, 3, 2).reshape(b, c, h, w);
        return x + proj.call(merged);
    }
}
