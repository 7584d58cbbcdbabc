using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Cold Diffusion's blur: D(x_0, t) is a periodic Gaussian blur of width σ_t, log-spaced from <see cref="SigmaMin"/> at t = 1
/// to <see cref="SigmaMax"/> at t = T (σ_0 = 0). Periodic, so that the blur is exact at any width (a circulant matrix per axis,
/// computed from its Fourier series) and the fully blurred image is the constant mean(x_0) (at σ = 20 the slowest
/// wave of a 28-pixel image keeps 4e-5 of its amplitude). Generation starts from a constant image per channel whose level is
/// drawn, as in Bansal et al.'s code (<c>sample_as_a_mean_blur_torch_gmm</c>), from a 10-component Gaussian mixture fitted
/// to the training images' channel means, plus a perturbation of 0.001–0.004 that the sampler removes at the end.
/// Checkpoints of the first version draw the level from N(μ, s²) (μ and s of the training images' mean pixel) and keep
/// their perturbation of 0.05.
/// </summary>
internal sealed class BlurDiffusion : ColdDiffusion
{
    /// <summary>σ of the start perturbation (Bansal et al. try 0.001–0.004).</summary>
    public const double MixturePerturbation = 0.002;
    public const int MixtureComponents = 10;

    private readonly GaussianMixture? _start;
    private readonly double? _degradedMean, _degradedStd;

    /// <summary>The current version: the start level from a mixture fitted to the training images' channel means.</summary>
    public BlurDiffusion(NoiseSchedule schedule, GaussianMixture? start, double perturbation = MixturePerturbation, bool removesPerturbation = true)
        : base(schedule, perturbation, removesPerturbation) => _start = start;

    /// <summary>The first version: the start level from N(μ, s²), the perturbation carried into the samples.</summary>
    public BlurDiffusion(NoiseSchedule schedule, double? degradedMean, double? degradedStd, double perturbation)
        : base(schedule, perturbation, removesPerturbation: false) => (_degradedMean, _degradedStd) = (degradedMean, degradedStd);

    public const string ProcessName = "blur";
    public const double SigmaMin = 0.3, SigmaMax = 20;

    private readonly Dictionary<long, Tensor> _kernels = [];

    public override string Name => ProcessName;

    /// <summary>Blur width σ_t in pixels.</summary>
    public double Sigma(int t) => t == 0 ? 0 : SigmaMin * Math.Pow(SigmaMax / SigmaMin, (t - 1.0) / Math.Max(T - 1, 1));

    /// <summary>K[i, j] = (1/N) Σ_k exp(−σ² ω_k²/2) cos(2π k (i − j)/N), ω_k = 2π min(k, N − k)/N: row sums 1, K = I at σ = 0.</summary>
    public static double[,] CirculantBlur(int n, double sigma)
    {
        var row = new double[n];
        for (int d = 0; d < n; d++)
            for (int k = 0; k < n; k++)
            {
                double w = 2 * Math.PI * Math.Min(k, n - k) / n;
                row[d] += Math.Exp(-sigma * sigma * w * w / 2) * Math.Cos(2 * Math.PI * k * d / n) / n;
            }
        var m = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) m[i, j] = row[((i - j) % n + n) % n];
        return m;
    }

    /// <summary>[T + 1, n, n] blur matrices, one per t, built once per image size.</summary>
    private Tensor Kernels(long n)
    {
        if (_kernels.TryGetValue(n, out var k)) return k;
        var all = new double[T + 1, n, n];
        for (int t = 0; t <= T; t++)
        {
            var m = CirculantBlur((int)n, Sigma(t));
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) all[t, i, j] = m[i, j];
        }
        k = tensor(all).to(ScalarType.Float32).DetachFromDisposeScope();
        _kernels[n] = k;
        return k;
    }

    /// <summary>D(x_0, t) = K_h(σ_t) x_0 K_w(σ_t)ᵀ per channel.</summary>
    public override Tensor Degrade(Tensor x0, Tensor t, Tensor? end = null)
    {
        long h = x0.shape[2], w = x0.shape[3];
        var kh = StepTables.At(Kernels(h), t).unsqueeze(1);                 // [B, 1, H, H]
        var kw = (h == w ? kh : StepTables.At(Kernels(w), t).unsqueeze(1)); // [B, 1, W, W]
        return matmul(matmul(kh, x0), kw.transpose(-1, -2));
    }

    protected override Tensor FullyDegraded(long[] shape, Generator generator)
    {
        if (_start is not null)
        {
            if (_start.Dimensions != shape[1])
                throw new DdpmException($"this blur checkpoint's start mixture has {_start.Dimensions} channels, the images {shape[1]}");
            return _start.Sample(shape[0], generator).view(shape[0], shape[1], 1, 1).expand(shape);
        }
        if (_degradedMean is not { } mean || _degradedStd is not { } std)
            throw new DdpmException("this blur checkpoint has no start statistics (startMixture, or degradedMean/degradedStd, in its config)");
        return (randn([shape[0], 1, 1, 1], generator: generator) * std + mean).expand(shape);
    }

    /// <summary>The start mixture fitted to the images' channel means, [N, C] (Bansal et al.: 10 components, full covariance).</summary>
    public static GaussianMixture FitStart(Tensor images)
    {
        using var scope = NewDisposeScope();
        return GaussianMixture.Fit(images.mean([2, 3]), Math.Min(MixtureComponents, (int)images.shape[0]));
    }

    /// <summary>Mean and standard deviation over images of each image's mean pixel: the distribution of D(x_0, T).</summary>
    public static (double Mean, double Std) StartStatistics(Tensor images)
    {
        using var scope = NewDisposeScope();
        var means = images.flatten(1).mean([1]).to(ScalarType.Float64);
        return (means.mean().item<double>(), means.numel() > 1 ? means.std().item<double>() : 0);
    }
}
