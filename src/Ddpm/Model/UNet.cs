using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// ε_θ(x_t, t): the noise-prediction U-Net of Ho et al. 2020 (after PixelCNN++), scaled down for
/// small images. Levels of residual blocks halve the resolution (28 → 14 → 7 with three levels),
/// a bottleneck has self-attention, and the up path mirrors the down path with skip connections.
/// The model knows nothing about the noise schedule: it maps (image, step) to an image-shaped output.
/// </summary>
internal sealed class UNet : nn.Module<Tensor, Tensor, Tensor>
{
    public UNetConfig Config { get; }

    private readonly TimeEmbedding timeEmbedding;
    private readonly Embedding? classEmbedding;
    private readonly MixedConv2d inputConv;
    private readonly ModuleList<ResBlock> downBlocks = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> downAttention = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> upAttention = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> downsamplers = new();
    private readonly ResBlock mid1;
    private readonly nn.Module<Tensor, Tensor> midAttention;
    private readonly ResBlock mid2;
    private readonly ModuleList<ResBlock> upBlocks = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> upsamplers = new();
    private readonly GroupNorm outputNorm;
    private readonly MixedConv2d outputConv;

    public UNet(UNetConfig config) : base(nameof(UNet))
    {
        config.Validate();
        Config = config;
        int baseCh = config.BaseChannels, timeDim = 4 * baseCh, levels = config.ChannelMultipliers.Length;
        var width = config.ChannelMultipliers.Select(m => m * baseCh).ToArray();

        timeEmbedding = new TimeEmbedding(baseCh, timeDim);
        // One extra row for the null class ∅ that label dropout trains (Ho & Salimans 2022).
        if (config.IsConditional) classEmbedding = nn.Embedding(config.NumClasses + 1, timeDim);
        inputConv = new MixedConv2d(config.ImageChannels, baseCh, 3, padding: 1);

        int ch = baseCh;
        var skipWidths = new Stack<int>();
        if (config.FullSkips) skipWidths.Push(ch);
        for (int level = 0; level < levels; level++)
        {
            for (int b = 0; b < config.BlocksPerLevel; b++)
            {
                downBlocks.Add(new ResBlock(ch, width[level], timeDim, config.Dropout));
                ch = width[level];
                downAttention.Add(AttentionAt(level, ch));
                skipWidths.Push(ch);
            }
            if (level < levels - 1)
            {
                downsamplers.Add(new MixedConv2d(ch, ch, 3, stride: 2, padding: 1));
                if (config.FullSkips) skipWidths.Push(ch);
            }
        }

        mid1 = new ResBlock(ch, ch, timeDim, config.Dropout);
        midAttention = config.Attention ? new SelfAttention(ch) : nn.Identity();
        mid2 = new ResBlock(ch, ch, timeDim, config.Dropout);

        for (int level = levels - 1; level >= 0; level--)
        {
            for (int b = 0; b < UpBlocksPerLevel; b++)
            {
                upBlocks.Add(new ResBlock(ch + skipWidths.Pop(), width[level], timeDim, config.Dropout));
                ch = width[level];
                upAttention.Add(AttentionAt(level, ch));
            }
            if (level > 0) upsamplers.Add(new Upsample(ch));
        }

        outputNorm = nn.GroupNorm(UNetConfig.GroupsFor(ch), ch);
        outputConv = new MixedConv2d(ch, config.ImageChannels, 3, padding: 1);
        RegisterComponents();

        InitializeNormLayers(this);
        if (config.ZeroInit) ZeroInitializeOutputs();
    }

    /// <summary>Up blocks per level: one per down block, plus one for the downsampler's (or input convolution's) skip with full skips.</summary>
    private int UpBlocksPerLevel => Config.BlocksPerLevel + (Config.FullSkips ? 1 : 0);

    private nn.Module<Tensor, Tensor> AttentionAt(int level, int channels) =>
        Config.AttentionLevels.Contains(level) ? new SelfAttention(channels) : nn.Identity();

    private void ZeroInitializeOutputs()
    {
        foreach (var (_, module) in named_modules())
            switch (module)
            {
                case ResBlock block: block.ZeroInitializeOutput(); break;
                case SelfAttention attention: attention.ZeroInitializeOutput(); break;
            }
        outputConv.ZeroInitialize();
    }

    /// <summary>The label of the null class ∅ (unconditional ε) of a conditional model.</summary>
    public int NullClass => Config.NumClasses;

    /// <summary>ε_θ(x_t, t), unconditional: a conditional model is given the null class.</summary>
    public override Tensor forward(Tensor x, Tensor t) => Forward(x, t, null);

    /// <summary>ε_θ(x_t, t, c): the class embedding is added to the time embedding.</summary>
    /// <param name="x">Noisy images [B, C, H, W].</param>
    /// <param name="t">The noise level [B]: int64 steps in 1..T, or float c_noise for the edm objective.</param>
    /// <param name="labels">Int64 classes [B] in 0..NumClasses (NumClasses = ∅), or null for ∅; only for a conditional model.</param>
    public Tensor Forward(Tensor x, Tensor t, Tensor? labels)
    {
        var emb = timeEmbedding.call(t);
        if (classEmbedding is not null)
            emb = emb + classEmbedding.call(labels ?? full(x.shape[0], NullClass, ScalarType.Int64));
        else if (labels is not null)
            throw new DdpmException("this model is unconditional: it takes no class labels (train with --conditional)");
        var h = inputConv.call(x);
        var skips = new Stack<Tensor>();
        if (Config.FullSkips) skips.Push(h);
        int block = 0, levels = Config.ChannelMultipliers.Length;
        for (int level = 0; level < levels; level++)
        {
            for (int b = 0; b < Config.BlocksPerLevel; b++)
            {
                h = downAttention[block].call(downBlocks[block].call(h, emb));
                block++;
                skips.Push(h);
            }
            if (level < levels - 1)
            {
                h = downsamplers[level].call(h);
                if (Config.FullSkips) skips.Push(h);
            }
        }

        h = mid2.call(midAttention.call(mid1.call(h, emb)), emb);

        block = 0;
        for (int level = levels - 1; level >= 0; level--)
        {
            for (int b = 0; b < UpBlocksPerLevel; b++)
            {
                h = upAttention[block].call(upBlocks[block].call(cat([h, skips.Pop()], 1), emb));
                block++;
            }
            if (level > 0) h = upsamplers[levels - 1 - level].call(h);
        }
        return outputConv.call(nn.functional.silu(outputNorm.call(h)));
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Compute precision of every convolution (see <see cref="MixedConv2d.Precision"/>); not part of the architecture.</summary>
    public Precision Precision
    {
        get => _precision;
        set
        {
            _precision = value;
            foreach (var (_, module) in named_modules())
                if (module is MixedConv2d conv) conv.Precision = value;
        }
    }
    private Precision _precision = Precision.Fp32;

    /// <summary>
    /// TorchSharp 0.107 allocates GroupNorm's affine parameters without setting them (garbage or NaN);
    /// PyTorch's defaults are weight 1, bias 0.
    /// </summary>
    internal static void InitializeNormLayers(nn.Module root)
    {
        using var _ = no_grad();
        foreach (var (_, module) in root.named_modules())
            if (module is GroupNorm gn)
            {
                gn.weight?.fill_(1);
                gn.bias?.zero_();
            }
    }

    /// <summary>Nearest-neighbour 2× upsampling followed by a 3×3 convolution.</summary>
    private sealed class Upsample : nn.Module<Tensor, Tensor>
    {
        private readonly MixedConv2d conv;

        public Upsample(int channels) : base(nameof(Upsample))
        {
            conv = new MixedConv2d(channels, channels, 3, padding: 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) =>
            conv.call(nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest));
    }
}
