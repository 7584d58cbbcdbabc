namespace Ddpm.Model;

/// <summary>
/// U-Net variants beside the size presets: "seed" is the compact U-Net ddpm started with; "zero" adds Ho et al.'s zero
/// initialisation; "ho" also takes their skips (input convolution and downsamplers, BlocksPerLevel + 1 up blocks) and
/// attention one level below full resolution (their 16×16 on 32×32 images; 14×14 on MNIST), as in
/// hojonathanho/diffusion <c>diffusion_tf/models/unet.py</c>.
/// </summary>
internal static class Architectures
{
    public const string Seed = "seed";
    public const string Zero = "zero";
    public const string Ho = "ho";
    public static readonly IReadOnlyList<string> Names = [Seed, Zero, Ho];

    public static UNetConfig Apply(UNetConfig config, string name) => name switch
    {
        Seed => config,
        Zero => config with { ZeroInit = true },
        Ho => config with { ZeroInit = true, FullSkips = true, AttentionLevels = config.ChannelMultipliers.Length > 1 ? [1] : [] },
        _ => throw new DdpmException($"unknown architecture '{name}' (choose from {string.Join(", ", Names)})"),
    };
}
