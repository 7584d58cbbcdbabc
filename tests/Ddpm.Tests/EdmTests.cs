using Ddpm.Data;
using Ddpm.Diffusion;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>The EDM objective (Karras et al. 2022) and its Heun sampler.</summary>
public class EdmTests
{
    public EdmTests() => TestSupport.Init();

    private static readonly NoiseSchedule Linear = NoiseSchedule.Create("linear", 1000);

    [Fact]
    public void Preconditioning_at_sigma_equal_to_sigma_data_matches_hand_values()
    {
        var edm = new EdmDiffusion(Linear, sigmaData: 0.5);
        var (skip, output, input) = edm.Coefficients(0.5);
        Assert.Equal(0.5, skip, 12);                        // σ_d²/(2σ_d²)
        Assert.Equal(0.5 / Math.Sqrt(2), output, 12);       // σ_d/√2
        Assert.Equal(1 / (0.5 * Math.Sqrt(2)), input, 12);  // 1/(σ_d√2)
        // σ = 2, σ_d = 0.5: c_skip = 0.25/4.25, c_out = 1/√4.25, c_in = 1/√4.25; c_noise = ln 2 / 4.
        var (s2, o2, i2) = edm.Coefficients(2);
        Assert.Equal(0.25 / 4.25, s2, 12);
        Assert.Equal(1 / Math.Sqrt(4.25), o2, 12);
        Assert.Equal(1 / Math.Sqrt(4.25), i2, 12);
        Assert.Equal(0.1732868, EdmDiffusion.NoiseLabel(2), 6);
    }

    [Fact]
    public void Training_noise_levels_are_lognormal_with_the_papers_mean_and_spread()
    {
        var edm = new EdmDiffusion(Linear, 0.6);
        using var g = new Generator(9);
        using var scope = NewDisposeScope();
        var lnSigma = edm.DrawSteps(20_000, g) * 4; // c_noise = ¼ ln σ
        Assert.InRange(lnSigma.mean().item<float>(), -1.2 - 0.03, -1.2 + 0.03); // standard error 0.0085
        Assert.InRange(lnSigma.std().item<float>(), 1.2 * 0.98, 1.2 * 1.02);
    }

    [Fact]
    public void Training_target_is_the_network_output_that_makes_the_denoiser_exact()
    {
        var edm = new EdmDiffusion(Linear, 0.5);
        using var g = new Generator(2);
        using var scope = NewDisposeScope();
        var x0 = rand(3, 1, 4, 4) * 2 - 1;
        var label = tensor(new[] { (float)EdmDiffusion.NoiseLabel(0.1), (float)EdmDiffusion.NoiseLabel(1), (float)EdmDiffusion.NoiseLabel(20) });
        var (input, target) = edm.TrainingPair(x0, label, g);
        // D = c_skip x + c_out F with F = target and x = input / c_in must give x_0 back.
        foreach (var (i, sigma) in new[] { (0, 0.1), (1, 1.0), (2, 20.0) })
        {
            var (skip, output, cin) = edm.Coefficients(sigma);
            var x = input[i] / cin;
            Assert.True((x * skip + target[i] * output).allclose(x0[i], rtol: 1e-4, atol: 1e-4), $"σ = {sigma}");
        }
    }

    /// <summary>The exact EDM network for x_0 ~ N(μ, s²): D(x; σ) = μ + s²/(s² + σ²)(x − μ), answered as F = (D − c_skip x)/c_out from (c_in x, c_noise).</summary>
    private sealed class ExactEdmNetwork(EdmDiffusion edm, double mu, double s) : nn.Module<Tensor, Tensor, Tensor>("ExactEdm")
    {
        public override Tensor forward(Tensor scaled, Tensor label)
        {
            double sigma = Math.Exp(4 * label[0].item<float>());
            var (skip, output, input) = edm.Coefficients(sigma);
            var x = scaled / input;
            var d = mu + s * s / (s * s + sigma * sigma) * (x - mu);
            return (d - x * skip) / output;
        }
    }

    /// <summary>
    /// 64 levels: the ODE is solved finely enough for the exact variance (a 1-D run of the same Heun steps on
    /// dx/dσ = σ(x − μ)/(s² + σ²) gives 0.0908). 18 levels (EDM's CIFAR-10 setting) solve it coarsely: the same
    /// 1-D run gives 0.1020, 13 % above s² = 0.09, and so must the sampler.
    /// </summary>
    [Theory]
    [InlineData(64, 0, 0.09)]     // Algorithm 1
    [InlineData(64, 10, 0.09)]    // Algorithm 2 with S_churn
    [InlineData(18, 0, 0.1020)]   // EDM's 18 levels, 35 calls
    public void Heun_with_the_exact_denoiser_of_gaussian_data_reaches_its_mean_and_variance(int levels, double churn, double expectedVariance)
    {
        const double mu = 0.2, s = 0.3;
        var edm = new EdmDiffusion(Linear, 0.5);
        var sampler = new EdmSampler(edm, levels, churn);
        Assert.Equal(2 * levels - 1, sampler.Steps);
        using var model = new ExactEdmNetwork(edm, mu, s);
        using var g = new Generator(7);
        using var scope = NewDisposeScope();
        int calls = 0;
        var x = sampler.Sample(model, [16, 1, 28, 28], g, new SyncProgress<int>(c => calls = c));
        Assert.Equal(sampler.Steps, calls);
        Assert.InRange(x.mean().item<float>(), mu - 0.015, mu + 0.015);
        Assert.InRange(x.var().item<float>(), expectedVariance * 0.95, expectedVariance * 1.05);
    }

    [Fact]
    public void Edm_levels_follow_eq_5_and_map_to_decreasing_equivalent_steps()
    {
        var sampler = new EdmSampler(new EdmDiffusion(Linear, 0.5), 18);
        Assert.Equal(80, sampler.Sigmas[0], 9);
        Assert.Equal(0.002, sampler.Sigmas[17], 9);
        Assert.Equal(0, sampler.Sigmas[18]);
        // Level 9 of 18: (80^(1/7) + 9/17 (0.002^(1/7) − 80^(1/7)))^7 = (1.8700 − 0.5294 · 1.4585)^7 = 1.0979^7 ≈ 1.923 by hand.
        Assert.InRange(sampler.Sigmas[9], 1.92, 1.93);
        Assert.Equal(0, sampler.States[^1]);
        Assert.True(sampler.States.Zip(sampler.States.Skip(1)).All(p => p.First > p.Second));
    }

    [Fact]
    public void Edm_trains_on_a_tiny_subset_with_finite_losses_and_stores_sigma_data()
    {
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 128);
        var config = new RunConfig
        {
            Model = Architectures.Apply(UNetConfig.FromPreset("tiny"), Architectures.Ho),
            Diffusion = new DiffusionConfig { Prediction = EdmDiffusion.PredictionName },
            Data = new DataConfig { Subset = 128, Count = 128 },
            Training = new OptimConfig { WarmupSteps = 2, Precision = "fp32" },
        };
        var dir = TestSupport.TempDir();
        using (var trainer = Trainer.Create(dir, config, data))
        {
            trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0 });
            Assert.All(LossLog.Read(dir), r => Assert.True(double.IsFinite(r.Loss)));
        }
        var saved = Checkpoint.ReadConfig(Checkpoint.Resolve(dir));
        // MNIST in [−1, 1]: mostly −1 background; the pixel std of the first 128 images is near 0.62.
        Assert.InRange(saved.Diffusion.SigmaData!.Value, 0.55, 0.68);
        using var model = Checkpoint.LoadModel(Checkpoint.Resolve(dir));
        var sampler = Samplers.ForConfig(saved.Diffusion, new SamplerOptions { Steps = 4 });
        Assert.IsType<EdmSampler>(sampler);
        using var g = new Generator(1);
        using var scope = NewDisposeScope();
        Assert.True(sampler.Sample(model, [2, 1, 28, 28], g).isfinite().all().item<bool>());
    }

    [Fact]
    public void Edm_sampling_runs_with_classifier_free_guidance_and_records_a_trajectory()
    {
        random.manual_seed(3);
        using var model = new UNet(UNetConfig.FromPreset("tiny") with { NumClasses = 10 });
        var diffusion = new DiffusionConfig { Prediction = "edm", SigmaData = 0.6 };
        var sampler = Samplers.ForConfig(diffusion, new SamplerOptions { Steps = 3 });
        using var recorder = new TrajectoryRecorder(TrajectoryRecorder.NearestStates(sampler, [1000, 500, 0]));
        using var g = new Generator(1);
        using var scope = NewDisposeScope();
        var images = Generation.Run(model, sampler, 2, new GenerationOptions { Labels = tensor(new long[] { 3, 7 }), Guidance = 1, Recorder = recorder }, g);
        Assert.Equal([2, 1, 28, 28], images.shape);
        Assert.True(images.isfinite().all().item<bool>());
        Assert.Equal(3, recorder.Times.Distinct().Count());
    }

    [Fact]
    public void Unsupported_edm_combinations_are_clear_errors()
    {
        var edm = new DiffusionConfig { Prediction = "edm", SigmaData = 0.6 };
        Assert.Contains("does not fit a checkpoint trained with the edm objective (use heun)",
            Assert.Throws<DdpmException>(() => Samplers.ForConfig(edm, new SamplerOptions { Kind = "ddim" })).Message);
        Assert.Contains("RePaint runs on a β schedule", Assert.Throws<DdpmException>(() => RePaint.ForConfig(edm)).Message);
        Assert.Contains("--min-snr does not apply to the edm objective",
            Assert.Throws<DdpmUsageException>(() => NoiseProcesses.Prepare(edm with { MinSnrGamma = 5 }, zeros(1, 1, 28, 28))).Message);
        Assert.Contains("--churn applies to --sampler heun only",
            Assert.Throws<DdpmUsageException>(() => Samplers.ForConfig(new DiffusionConfig(), new SamplerOptions { Kind = "ddim", Churn = 1 })).Message);
    }
}
