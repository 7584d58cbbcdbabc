using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Residual block (GroupNorm → SiLU → conv, time embedding added, GroupNorm → SiLU → dropout → conv)
/// with a 1×1 projection on the skip path when the width changes.
/// </summary>
internal sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm norm1;
    private readonly MixedConv2d conv1;
    private readonly Linear time;
    private readonly GroupNorm norm2;
    private readonly Dropout dropout;
    private readonly MixedConv2d conv2;
    private readonly nn.Module<Tensor, Tensor> skip;

    public ResBlock(int inChannels, int outChannels, int timeDim, double dropoutRate) : base(nameof(ResBlock))
    {
        norm1 = nn.GroupNorm(UNetConfig.GroupsFor(inChannels), inChannels);
        conv1 = new MixedConv2d(inChannels, outChannels, 3, padding: 1);
        time = nn.Linear(timeDim, outChannels);
        norm2 = nn.GroupNorm(UNetConfig.GroupsFor(outChannels), outChannels);
        dropout = nn.Dropout(dropoutRate);
        conv2 = new MixedConv2d(outChannels, outChannels, 3, padding: 1);
        skip = inChannels == outChannels ? nn.Identity() : new MixedConv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    /// <summary>Zero-initialises the second convolution, so the block starts as its skip path (Ho et al. 2020's released U-Net).</summary>
    public void ZeroInitializeOutput() => conv2.ZeroInitialize();

    public override Tensor forward(Tensor x, Tensor timeEmbedding)
    {
        var h = conv1.call(nn.functional.silu(norm1.call(x)));
        h = h + time.call(nn.functional.silu(timeEmbedding)).unsqueeze(-1).unsqueeze(-1);
        h = conv2.call(dropout.call(nn.functional.silu(norm2.call(h))));
        return h + skip.call(x);
    }
}
