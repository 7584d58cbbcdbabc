using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Cold Diffusion's masking: D(x_0, t) replaces the first ⌊t·HW/T + ½⌋ pixels of a fixed random pixel order by
/// <see cref="MaskValue"/> (mid-grey, which MNIST's black background never is), so each step hides a few more pixels
/// and D(x_0, T) is a blank grey image. The order comes from System.Random with a fixed seed: the same on every machine,
/// in training and sampling. Generation starts from the blank image plus the perturbation. This is the first version's
/// mask (<see cref="Training.DiffusionConfig.ColdVersion"/> 1), kept so its checkpoints sample as before: every sample starts
/// from one grey image, so they collapse to a few digits; new runs use <see cref="DefadingDiffusion"/>.
/// </summary>
internal sealed class MaskDiffusion(NoiseSchedule schedule, double perturbation) : ColdDiffusion(schedule, perturbation, removesPerturbation: false)
{
    public const string ProcessName = "mask";
    public const double MaskValue = 0;
    private const int OrderSeed = 2022;

    private readonly Dictionary<(long, long), Tensor> _ranks = [];

    public override string Name => ProcessName;

    /// <summary>Each pixel's position in the masking order, [H, W] Int64 (0 = masked first).</summary>
    public Tensor Ranks(long h, long w)
    {
        if (_ranks.TryGetValue((h, w), out var r)) return r;
        var order = Enumerable.Range(0, (int)(h * w)).ToArray();
        new Random(OrderSeed).Shuffle(order);
        var rank = new long[order.Length];
        for (int i = 0; i < order.Length; i++) rank[order[i]] = i;
        r = tensor(rank).view(h, w).DetachFromDisposeScope();
        _ranks[(h, w)] = r;
        return r;
    }

    /// <summary>Pixels masked at t: ⌊t·HW/T + ½⌋.</summary>
    public long MaskedCount(int t, long pixels) => (t * pixels + T / 2) / T;

    public override Tensor Degrade(Tensor x0, Tensor t, Tensor? end = null)
    {
        long h = x0.shape[2], w = x0.shape[3];
        var count = (t * (h * w) + T / 2).div(T, rounding_mode: RoundingMode.floor).view(-1, 1, 1, 1);
        var keep = Ranks(h, w).view(1, 1, h, w).ge(count);
        return where(keep, x0, full_like(x0, MaskValue));
    }

    protected override Tensor FullyDegraded(long[] shape, Generator generator) => full(shape, MaskValue);
}
