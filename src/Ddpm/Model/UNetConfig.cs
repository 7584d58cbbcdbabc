namespace Ddpm.Model;

/// <summary>
/// Everything needed to rebuild a <see cref="UNet"/>; it travels inside every checkpoint so that
/// sampling needs no flags about the model.
/// </summary>
internal sealed record UNetConfig
{
    public string Preset { get; init; } = "custom";
    public int ImageSize { get; init; } = 28;
    public int ImageChannels { get; init; } = 1;
    public int BaseChannels { get; init; } = 32;
    /// <summary>Width of each resolution level relative to <see cref="BaseChannels"/>; a level after the first halves the resolution.</summary>
    public int[] ChannelMultipliers { get; init; } = [1, 2, 2];
    public int BlocksPerLevel { get; init; } = 1;
    /// <summary>Self-attention in the bottleneck (at the lowest resolution).</summary>
    public bool Attention { get; init; } = true;
    public double Dropout { get; init; }
    /// <summary>
    /// Skips as in Ho et al.'s released U-Net (<c>diffusion_tf/models/unet.py</c>): also from the input convolution and every
    /// downsampler, with BlocksPerLevel + 1 blocks per up level. Off in checkpoints written before the field existed.
    /// </summary>
    public bool FullSkips { get; init; }
    /// <summary>Levels (0 = full resolution) whose residual blocks are followed by self-attention (Ho et al.: 16×16; here 14×14 = level 1).</summary>
    public int[] AttentionLevels { get; init; } = [];
    /// <summary>
    /// Zero initialisation (Ho et al.'s <c>init_scale=0</c>) of each residual block's second convolution, every attention output
    /// projection and the final convolution: the untrained network outputs exactly 0 and every block starts as its skip path.
    /// </summary>
    public bool ZeroInit { get; init; }
    /// <summary>Class-conditional when &gt; 0: labels 0..NumClasses−1 plus a null class ∅ = NumClasses (classifier-free guidance).</summary>
    public int NumClasses { get; init; }
    public bool IsConditional => NumClasses > 0;

    public static readonly IReadOnlyDictionary<string, UNetConfig> Presets = new Dictionary<string, UNetConfig>
    {
        // For tests and smoke runs: seconds per epoch on a subset.
        ["tiny"] = new() { Preset = "tiny", BaseChannels = 8, ChannelMultipliers = [1, 2, 2], BlocksPerLevel = 1 },
        // The default: an MNIST epoch in minutes on a 2-core CPU.
        ["small"] = new() { Preset = "small", BaseChannels = 32, ChannelMultipliers = [1, 2, 2], BlocksPerLevel = 1 },
        ["medium"] = new() { Preset = "medium", BaseChannels = 64, ChannelMultipliers = [1, 2, 2], BlocksPerLevel = 2 },
        ["large"] = new() { Preset = "large", BaseChannels = 128, ChannelMultipliers = [1, 2, 2], BlocksPerLevel = 2, Dropout = 0.1 },
    };

    public const string DefaultPreset = "small";

    public static UNetConfig FromPreset(string name, int imageSize = 28, int imageChannels = 1) =>
        Presets.TryGetValue(name, out var c)
            ? c with { ImageSize = imageSize, ImageChannels = imageChannels, ChannelMultipliers = LevelsFor(c.ChannelMultipliers, imageSize) }
            : throw new DdpmException($"unknown model preset '{name}' (choose from {string.Join(", ", Presets.Keys)})");

    /// <summary>The lowest resolution the presets aim for: 7×7 at 28 px and 8×8 at 32 px, as the 28-px presets were designed.</summary>
    public const int BottleneckSize = 8;

    /// <summary>
    /// The preset's levels adapted to an image size: a level of the last width is added while the bottleneck would be larger than
    /// <see cref="BottleneckSize"/> and can still be halved (64 px: 4 levels, 64 → 8), and levels are dropped while the size cannot
    /// be halved that often (e.g. 30 px: 2 levels). 28 and 32 px keep the presets' three.
    /// </summary>
    public static int[] LevelsFor(int[] multipliers, int imageSize)
    {
        var levels = multipliers.ToList();
        while (levels.Count > 1 && imageSize % (1 << (levels.Count - 1)) != 0) levels.RemoveAt(levels.Count - 1);
        while (imageSize >> (levels.Count - 1) is var bottom && bottom > BottleneckSize && bottom % 2 == 0) levels.Add(levels[^1]);
        return [.. levels];
    }

    /// <summary>This preset with another width or depth per level (null keeps the preset's); the name says what changed.</summary>
    public UNetConfig Resized(int? baseChannels, int? blocksPerLevel)
    {
        int width = baseChannels ?? BaseChannels, depth = blocksPerLevel ?? BlocksPerLevel;
        if (width == BaseChannels && depth == BlocksPerLevel) return this;
        var resized = this with { Preset = $"{Preset}-c{width}-b{depth}", BaseChannels = width, BlocksPerLevel = depth };
        resized.Validate();
        return resized;
    }

    /// <summary>Throws a <see cref="DdpmException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        if (BaseChannels < 4 || BaseChannels % 4 != 0) throw new DdpmException($"model base channels must be a positive multiple of 4, got {BaseChannels}");
        if (ChannelMultipliers is null || ChannelMultipliers.Length == 0 || ChannelMultipliers.Any(m => m <= 0))
            throw new DdpmException("model channel multipliers must be a non-empty list of positive integers");
        if (BlocksPerLevel < 1) throw new DdpmException($"model blocks per level must be >= 1, got {BlocksPerLevel}");
        if (ImageChannels < 1) throw new DdpmException($"image channels must be >= 1, got {ImageChannels}");
        int factor = 1 << (ChannelMultipliers.Length - 1);
        if (ImageSize < factor || ImageSize % factor != 0)
            throw new DdpmException($"image size {ImageSize} cannot be halved {ChannelMultipliers.Length - 1} times by the model's levels");
        if (Dropout is < 0 or >= 1) throw new DdpmException($"dropout must be in [0, 1), got {Dropout}");
        if (AttentionLevels is null || AttentionLevels.Any(l => l < 0 || l >= ChannelMultipliers.Length))
            throw new DdpmException($"model attention levels must be in 0..{ChannelMultipliers.Length - 1}");
        if (NumClasses < 0) throw new DdpmException($"number of classes must be >= 0, got {NumClasses}");
    }

    /// <summary>GroupNorm groups for a width: up to 8, keeping at least 4 channels per group.</summary>
    public static int GroupsFor(int channels)
    {
        for (int g = Math.Min(8, channels / 4); g > 1; g--)
            if (channels % g == 0) return g;
        return 1;
    }
}
