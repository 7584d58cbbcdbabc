using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Cold Diffusion's mask as its authors' generation code runs it (Bansal et al. 2022, <c>defading-generation-diffusion-pytorch</c>):
/// x_t = α_t ⊙ x_0 + (1 − α_t) ⊙ x_end, where x_end is a constant level per image and channel drawn from U[−½, ½] for every
/// training example and as the start of every sample, and α_t is a growing centred fade: the cumulative product of
/// 1 − G_i/max G_i, G_i a Gaussian of width σ_i = s·κ·(m_0 + i) around the image centre (their <c>get_kernels_with_schedule</c>,
/// κ = 0.15, m_0 = 11, at their T = 50). Because the restorer sees every level in training, samples started from different
/// levels differ, which the first version's single grey start (<see cref="MaskDiffusion"/>) could not give.
/// <para>Two choices of ddpm's: any T runs their 50 fade factors as T factors of exponent 50/T (the same α at T = 50); and the
/// widths are scaled by the smallest s ≥ 1 with α_T ≤ 10⁻³ at the farthest pixel, so x_T is x_end, where generation starts
/// (their setting leaves the outer part of a 128-pixel image unfaded at T; on 28×28 MNIST it gives s = 1.6).</para>
/// <para>Their defading starts from the level alone (perturbation 0, the default). A perturbation given with
/// <c>--start-perturbation</c> is carried unchanged into x_0 by Algorithm 2, as blur's is, and is removed at the end as blur's
/// <c>all_sample</c> does; with δ = 0 that subtraction changes nothing.</para>
/// </summary>
internal sealed class DefadingDiffusion(NoiseSchedule schedule, double perturbation) : ColdDiffusion(schedule, perturbation, removesPerturbation: true)
{
    public const double KernelStd = 0.15, InitialMask = 11, EndLevelRange = 0.5, EndTolerance = 1e-3;
    public const int ReferenceSteps = 50;

    private readonly Dictionary<(long, long), Tensor> _alphas = [];

    public override string Name => MaskDiffusion.ProcessName;

    /// <summary>The fade's centre on an axis of n pixels: index (n − 1) div 2, where their (n + 1)-point kernel cropped by one lands.</summary>
    public static int Centre(long n) => (int)((n - 1) / 2);

    /// <summary>α_0..α_T at distance d from the centre: α_t = Π_{i &lt; t} (1 − exp(−d²/(2σ_i²)))^{50/T}, σ_i = s·κ·(m_0 + 50·i/T).</summary>
    public static double[] Curve(double d, int timesteps, double scale)
    {
        var alpha = new double[timesteps + 1];
        double w = (double)ReferenceSteps / timesteps, log = 0;
        alpha[0] = 1;
        for (int t = 1; t <= timesteps; t++)
        {
            double sigma = scale * KernelStd * (InitialMask + (t - 1) * w);
            double f = 1 - Math.Exp(-d * d / (2 * sigma * sigma));
            log = f <= 0 ? double.NegativeInfinity : log + w * Math.Log(f);
            alpha[t] = Math.Exp(log);
        }
        return alpha;
    }

    /// <summary>The smallest width scale s ≥ 1 with α_T ≤ 10⁻³ at the pixel farthest from the centre (α falls as s grows).</summary>
    public static double Scale(long h, long w, int timesteps)
    {
        double dh = Math.Max(Centre(h), h - 1 - Centre(h)), dw = Math.Max(Centre(w), w - 1 - Centre(w));
        double far = Math.Sqrt(dh * dh + dw * dw);
        if (Curve(far, timesteps, 1)[timesteps] <= EndTolerance) return 1;
        double lo = 1, hi = 2;
        while (Curve(far, timesteps, hi)[timesteps] > EndTolerance) (lo, hi) = (hi, hi * 2);
        for (int k = 0; k < 50; k++)
        {
            double mid = (lo + hi) / 2;
            if (Curve(far, timesteps, mid)[timesteps] > EndTolerance) lo = mid; else hi = mid;
        }
        return hi;
    }

    /// <summary>[T + 1, H, W] fades α_t (α_0 = 1), built once per image size.</summary>
    public Tensor Alphas(long h, long w)
    {
        if (_alphas.TryGetValue((h, w), out var a)) return a;
        double scale = Scale(h, w, T);
        int ch = Centre(h), cw = Centre(w);
        var all = new float[(T + 1) * h * w];
        for (long y = 0; y < h; y++)
            for (long x = 0; x < w; x++)
            {
                var curve = Curve(Math.Sqrt((y - ch) * (y - ch) + (x - cw) * (x - cw)), T, scale);
                for (int t = 0; t <= T; t++) all[(t * h + y) * w + x] = (float)curve[t];
            }
        a = tensor(all).view(T + 1, h, w).DetachFromDisposeScope();
        _alphas[(h, w)] = a;
        return a;
    }

    /// <summary>Their <c>q_sample</c>: α_t ⊙ x_0 + (1 − α_t) ⊙ x_end.</summary>
    public override Tensor Degrade(Tensor x0, Tensor t, Tensor? end = null)
    {
        if (end is null) throw new ArgumentNullException(nameof(end), "defading degrades towards an end level x_end");
        var alpha = StepTables.At(Alphas(x0.shape[2], x0.shape[3]), t).unsqueeze(1); // [B, 1, H, W]
        return alpha * x0 + (1 - alpha) * end;
    }

    /// <summary>x_end ~ U[−½, ½] per image and channel, [B, C, 1, 1] (their <c>torch.rand((B, 3)) − 0.5</c>).</summary>
    protected override Tensor DrawEnd(long[] shape, Generator? generator) =>
        rand([shape[0], shape[1], 1, 1], generator: generator) * (2 * EndLevelRange) - EndLevelRange;

    protected override Tensor FullyDegraded(long[] shape, Generator generator) => DrawEnd(shape, generator)!.expand(shape);
}
