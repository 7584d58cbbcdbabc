using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// The EDM objective (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models"; NVlabs/edm
/// <c>training/loss.py</c> EDMLoss and <c>training/networks.py</c> EDMPrecond): x = x_0 + σ n, ln σ ~ N(P_mean, P_std²), and the
/// denoiser D(x; σ) = c_skip(σ) x + c_out(σ) F_θ(c_in(σ) x; c_noise(σ)) with the Table 1 preconditioning
/// c_skip = σ_d²/(σ² + σ_d²), c_out = σ σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²), c_noise = ¼ ln σ. The loss
/// λ(σ) ‖D − x_0‖² with λ = (σ² + σ_d²)/(σ σ_d)² equals ‖F − (x_0 − c_skip x)/c_out‖² (λ c_out² = 1), which is what is
/// regressed here. The network is conditioned on c_noise (a float per example) where the β-schedule processes pass t.
/// </summary>
internal sealed class EdmDiffusion : INoiseProcess
{
    public const string PredictionName = "edm";
    public const double DefaultPMean = -1.2, DefaultPStd = 1.2;
    /// <summary>σ_min, σ_max and ρ of the sampler's noise levels (EDM eq. 5 and Table 1).</summary>
    public const double SigmaMin = 0.002, SigmaMax = 80, Rho = 7;

    /// <param name="schedule">Only its T is used (noise-demo columns): EDM has no β schedule.</param>
    public EdmDiffusion(NoiseSchedule schedule, double sigmaData, double pMean = DefaultPMean, double pStd = DefaultPStd)
    {
        if (!(sigmaData > 0) || !double.IsFinite(sigmaData)) throw new DdpmException($"EDM σ_data must be > 0, got {sigmaData}");
        if (!(pStd > 0) || !double.IsFinite(pMean)) throw new DdpmException($"EDM P_std must be > 0 and P_mean finite, got {pMean}, {pStd}");
        Schedule = schedule;
        SigmaData = sigmaData;
        PMean = pMean;
        PStd = pStd;
    }

    public string Name => GaussianDiffusion.ProcessName;
    public NoiseSchedule Schedule { get; }
    public double SigmaData { get; }
    public double PMean { get; }
    public double PStd { get; }

    /// <summary>c_skip, c_out, c_in of EDM Table 1 at σ (tensors broadcast, doubles exact).</summary>
    public (double Skip, double Out, double In) Coefficients(double sigma)
    {
        double s2 = sigma * sigma, d2 = SigmaData * SigmaData;
        return (d2 / (s2 + d2), sigma * SigmaData / Math.Sqrt(s2 + d2), 1 / Math.Sqrt(s2 + d2));
    }

    /// <summary>c_noise = ¼ ln σ, the network's conditioning input.</summary>
    public static double NoiseLabel(double sigma) => Math.Log(sigma) / 4;

    /// <summary>ln σ ~ N(P_mean, P_std²) (EDM Table 1, "Training"); returns c_noise = ¼ ln σ per example, as a float tensor.</summary>
    public Tensor DrawSteps(long batch, Generator? generator) =>
        (randn([batch], generator: generator) * PStd + PMean) / 4;

    /// <summary>Network input c_in (x_0 + σ n) and target (x_0 − c_skip (x_0 + σ n))/c_out, σ = e^{4 c_noise}.</summary>
    public (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator)
    {
        var sigma = (t.to(ScalarType.Float32) * 4).exp().view(-1, 1, 1, 1);
        var noise = randn(x0.shape, dtype: x0.dtype, generator: generator);
        var x = x0 + sigma * noise;
        double d2 = SigmaData * SigmaData;
        var s2 = sigma.square();
        var cSkip = d2 / (s2 + d2);
        var cOut = sigma * SigmaData / (s2 + d2).sqrt();
        var cIn = 1 / (s2 + d2).sqrt();
        return (cIn * x, (x0 - cSkip * x) / cOut);
    }

    public Tensor Loss(Tensor prediction, Tensor target, Tensor t) => nn.functional.mse_loss(prediction, target);

    /// <summary>σ_data: the standard deviation of the training pixels (in [−1, 1]), as EDM's §5 sets it for its data.</summary>
    public static double MeasureSigmaData(Tensor images)
    {
        using var scope = NewDisposeScope();
        return images.to(ScalarType.Float64).std().item<double>();
    }
}
