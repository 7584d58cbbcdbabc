using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Cold Diffusion's blur: D(x_0, t) is a periodic Gaussian blur of width σ_t, log-spaced from <see cref="SigmaMin"/> at t = 1
/// to <see cref="SigmaMax"/> at t = T (σ_0 = 0). Periodic, so that the blur is exact at any width (a circulant matrix per axis,
/// computed from its Fourier series) and the fully blurred image is the constant mean(x_0) (at σ = 20 the slowest
/// wave of a 28-pixel image keeps 4e-5 of its amplitude). Generation starts from a constant c ~ N(μ, s²), μ and s the
/// mean and spread of the training images' mean pixel, stored in the checkpoint config.
/// </summary>
public sealed class BlurDiffusion(NoiseSchedule schedule, double? degradedMean, double? degradedStd, double perturbation)
    : ColdDiffusion(schedule, perturbation)
{
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
    public override Tensor Degrade(Tensor x0, Tensor t)
    {
        long h = x0.shape[2], w = x0.shape[3];
        var kh = Kernels(h).index_select(0, t).unsqueeze(1);                 // [B, 1, H, H]
        var kw = (h == w ? kh : Kernels(w).index_select(0, t).unsqueeze(1)); // [B, 1, W, W]
        return matmul(matmul(kh, x0), kw.transpose(-1, -2));
    }

    protected override Tensor FullyDegraded(long[] shape, Generator generator)
    {
        if (degradedMean is not { } mean || degradedStd is not { } std)
            throw new DdpmException("this blur checkpoint has no start statistics (degradedMean/degradedStd in its config)");
        return (randn([shape[0], 1, 1, 1], generator: generator) * std + mean).expand(shape);
    }

    /// <summary>Mean and standard deviation over images of each image's mean pixel: the distribution of D(x_0, T).</summary>
    public static (double Mean, double Std) StartStatistics(Tensor images)
    {
        using var scope = NewDisposeScope();
        var means = images.flatten(1).mean([1]).to(ScalarType.Float64);
        return (means.mean().item<double>(), means.numel() > 1 ? means.std().item<double>() : 0);
    }
}
