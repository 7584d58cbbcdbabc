using Ddpm.Data;
using Ddpm.Diffusion;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Gamma noise (Nachmani et al. 2021) and cold diffusion's blur and mask (Bansal et al. 2022).</summary>
public class NoiseTypeTests
{
    public NoiseTypeTests() => TestSupport.Init();

    [Fact]
    public void Gamma_shapes_match_the_paper_by_hand_and_are_positive_for_every_schedule()
    {
        var linear = NoiseSchedule.Create("linear", 1000);
        // k_1 = β_1/(ᾱ_1 θ_0²) = 1e-4/(0.9999 · 1e-6).
        Assert.Equal(1e-4 / 0.9999 / 1e-6, GammaDiffusion.Shapes(linear, 1e-3)[1], 9);
        foreach (var name in NoiseSchedule.Names)
            foreach (var theta0 in new[] { 1e-3, 0.1 })
            {
                var s = NoiseSchedule.Create(name, 1000);
                var kBar = GammaDiffusion.KBars(s, theta0);
                for (int t = 1; t <= s.T; t++)
                {
                    Assert.True(kBar[t] > 0 && double.IsFinite(kBar[t]), $"{name}: k̄_{t} = {kBar[t]}");
                    // The sum telescopes to k̄_t θ_t² = 1 − ᾱ_t (the same variance as DDPM).
                    double theta = Math.Sqrt(s.AlphaBar[t]) * theta0;
                    Assert.Equal(1 - s.AlphaBar[t], kBar[t] * theta * theta, 1e-9 * Math.Max(1, kBar[t] * theta * theta));
                }
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(300)]
    [InlineData(1000)]
    public void Gamma_forward_sample_has_the_gaussian_mean_and_variance_and_gamma_skew(int t)
    {
        using var process = new GammaDiffusion(NoiseSchedule.Create("linear", 1000));
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        const int n = 200_000;
        var x0 = full(new long[] { n, 1, 1, 1 }, 0.6f);
        var (xt, eps) = process.TrainingPair(x0, full(n, t, ScalarType.Int64), g);
        double a = process.Schedule.AlphaBar[t];
        var d = xt.to(ScalarType.Float64);
        double mean = d.mean().item<double>(), variance = d.var().item<double>();
        Assert.Equal(Math.Sqrt(a) * 0.6, mean, 5 * Math.Sqrt((1 - a) / n));
        Assert.InRange(variance / (1 - a), 0.98, 1.02);
        // Γ(k̄) standardised has skewness 2/√k̄: 0.2 at t = 1 with θ_0 = 0.001, ~0 later.
        var e = eps.to(ScalarType.Float64);
        double skew = (e - e.mean()).pow(3).mean().item<double>() / Math.Pow(e.var().item<double>(), 1.5);
        Assert.Equal(2 / Math.Sqrt(process.KBar[t]), skew, 0.03);
    }

    [Fact]
    public void Gamma_sampler_steps_by_hand_recovers_x0_and_is_deterministic()
    {
        using var process = new GammaDiffusion(NoiseSchedule.Create("linear", 1000));
        var s = process.Schedule;
        var sampler = new GammaSampler(process);
        using var scope = NewDisposeScope();
        var xt = full(new long[] { 1, 1, 1, 1 }, 0.3, ScalarType.Float64);
        var eps = full(new long[] { 1, 1, 1, 1 }, -0.7, ScalarType.Float64);
        var z = full(new long[] { 1, 1, 1, 1 }, 0.25, ScalarType.Float64);
        int t = 500;
        double expected = (0.3 + s.Beta[t] / Math.Sqrt(1 - s.AlphaBar[t]) * 0.7) / Math.Sqrt(s.Alpha[t]) + Math.Sqrt(s.Beta[t]) * 0.25;
        Assert.Equal(expected, sampler.Step(xt, eps, t, t - 1, z).item<double>(), 12);

        // x_1 built with the true ε: the last step (no noise) returns x_0.
        var x0 = rand(2, 1, 5, 5, dtype: ScalarType.Float64) * 2 - 1;
        var e1 = randn(2, 1, 5, 5, dtype: ScalarType.Float64);
        var x1 = Math.Sqrt(s.AlphaBar[1]) * x0 + Math.Sqrt(1 - s.AlphaBar[1]) * e1;
        Assert.True(sampler.Step(x1, e1, 1, 0, null).allclose(x0, rtol: 0, atol: 1e-12));

        random.manual_seed(3);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        var few = new GammaSampler(process, 8);
        Assert.Equal(new[] { 1000, 875, 750, 625, 500, 375, 250, 125, 0 }, few.States);
        Tensor Draw(ulong seed) { using var gen = new Generator(seed); return few.Sample(model, [3, 1, 28, 28], gen); }
        var a = Draw(11);
        Assert.True(a.eq(Draw(11)).all().item<bool>());
        Assert.False(a.eq(Draw(12)).all().item<bool>());
        Assert.True(a.min().item<float>() >= -1 && a.max().item<float>() <= 1);
    }

    [Fact]
    public void Blur_is_the_identity_at_t0_grows_monotonically_and_ends_at_the_image_mean()
    {
        var blur = new BlurDiffusion(NoiseSchedule.Create("linear", 1000), -0.7, 0.1, 0.05);
        using var scope = NewDisposeScope();
        var x0 = TestDigits.First(8);
        Assert.True(blur.Degrade(x0, 0).allclose(x0, rtol: 0, atol: 1e-5));
        // Energy in the upper half of the spectrum (image minus its 3×3 local mean) falls with t.
        double HighFrequency(Tensor x) => (x - nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad: false)).pow(2).mean().item<float>();
        double previous = double.MaxValue;
        foreach (int t in new[] { 0, 1, 100, 250, 500, 750, 1000 })
        {
            var d = blur.Degrade(x0, t);
            double h = HighFrequency(d);
            Assert.True(h < previous, $"t = {t}: high-frequency energy {h} did not fall below {previous}");
            previous = h;
            // A periodic blur keeps each image's mean.
            Assert.True(d.mean([1, 2, 3]).allclose(x0.mean([1, 2, 3]), rtol: 0, atol: 1e-4));
        }
        var end = blur.Degrade(x0, 1000);
        Assert.True((end - x0.mean([1, 2, 3], keepdim: true)).abs().max().item<float>() < 1e-3);
        Assert.Equal(BlurDiffusion.SigmaMin, blur.Sigma(1), 12);
        Assert.Equal(BlurDiffusion.SigmaMax, blur.Sigma(1000), 9);
    }

    [Fact]
    public void First_version_mask_hides_a_growing_nested_set_of_pixels()
    {
        var mask = new MaskDiffusion(NoiseSchedule.Create("linear", 1000), 0.05);
        using var scope = NewDisposeScope();
        var x0 = TestDigits.First(4); // no MNIST pixel maps to exactly 0, the mask value
        Assert.True(mask.Degrade(x0, 0).eq(x0).all().item<bool>());
        Tensor? before = null;
        foreach (int t in new[] { 1, 10, 100, 500, 999, 1000 })
        {
            var masked = mask.Degrade(x0, t).eq(MaskDiffusion.MaskValue);
            Assert.Equal(mask.MaskedCount(t, 784) * 4, masked.sum().item<long>());
            Assert.True(masked[0].eq(masked[3]).all().item<bool>()); // the same pixels in every image
            if (before is not null) Assert.True(masked.logical_or(before).eq(masked).all().item<bool>()); // nested
            before = masked;
        }
        Assert.Equal(392, mask.MaskedCount(500, 784));
        Assert.Equal(784, mask.MaskedCount(1000, 784));
    }

    [Theory]
    [InlineData("blur", 1, 50, 1e-4)]
    [InlineData("mask", 1, 50, 1e-4)]
    [InlineData("mask", 1, 1000, 1e-4)]
    [InlineData("blur", 2, 50, 1e-4)]
    // Defading uses x_T as x_end; x_T = D(x_0, T) keeps α_T ≤ 10⁻³ of x_0, so the result may differ by α_T·|x_T − x_0| ≤ 2·10⁻³.
    [InlineData("mask", 2, 50, 2e-3)]
    [InlineData("mask", 2, 1000, 2e-3)]
    public void Cold_sampler_with_a_perfect_restorer_returns_x0(string noise, int version, int steps, double tolerance)
    {
        using var scope = NewDisposeScope();
        var x0 = TestDigits.First(3);
        var process = (ColdDiffusion)NoiseProcesses.Create(new DiffusionConfig { Noise = noise, ColdVersion = version, DegradedMean = -0.7, DegradedStd = 0.1 });
        var sampler = new ColdSampler(process, steps);
        using var g = new Generator(0);
        var end = full(3, 1, 1, 1, 0.3f);
        var back = sampler.SampleFrom(new OracleRestorer(x0), () => process.Degrade(x0, process.T, end), [3, 1, 28, 28], g);
        Assert.True(back.allclose(x0, rtol: 0, atol: tolerance), $"max error {(back - x0).abs().max().item<float>()}");
    }

    [Fact]
    public void Each_noise_type_gets_its_own_sampler_and_mismatches_are_clear_errors()
    {
        DiffusionConfig Config(string noise) => new() { Noise = noise, DegradedMean = 0, DegradedStd = 0.1 };
        Assert.IsType<DpmSolverSampler>(Samplers.ForConfig(Config("gaussian")));
        Assert.Equal(20, Samplers.ForConfig(Config("gaussian")).Steps);
        // With guidance the default is DDIM (η = 0) with 10 steps, or with the steps given; a named sampler is never replaced.
        var guided = Assert.IsType<DdimSampler>(Samplers.ForConfig(Config("gaussian"), guided: true));
        Assert.Equal((10, 0.0), (guided.Steps, guided.Eta));
        Assert.Equal(50, Assert.IsType<DdimSampler>(Samplers.ForConfig(Config("gaussian"), new SamplerOptions { Steps = 50 }, guided: true)).Steps);
        Assert.Equal(1000, Assert.IsType<DdimSampler>(Samplers.ForConfig(Config("gaussian"), new SamplerOptions { Kind = "ddim" }, guided: true)).Steps);
        Assert.IsType<DpmSolverSampler>(Samplers.ForConfig(Config("gaussian"), new SamplerOptions { Kind = "dpm++2m" }, guided: true));
        Assert.IsType<GammaSampler>(Samplers.ForConfig(Config("gamma"), guided: true));
        Assert.IsType<ColdSampler>(Samplers.ForConfig(Config("blur"), guided: true));
        Assert.IsType<AncestralSampler>(Samplers.ForConfig(Config("gaussian"), new SamplerOptions { Kind = "ddpm" }));
        Assert.IsType<DdimSampler>(Samplers.ForConfig(Config("gaussian"), new SamplerOptions { Kind = "ddim", Steps = 50 }));
        Assert.IsType<GammaSampler>(Samplers.ForConfig(Config("gamma")));
        Assert.Equal(50, Samplers.ForConfig(Config("gamma"), new SamplerOptions { Steps = 50 }).Steps);
        Assert.IsType<ColdSampler>(Samplers.ForConfig(Config("blur")));
        Assert.IsType<ColdSampler>(Samplers.ForConfig(Config("mask"), new SamplerOptions { Kind = "cold", Steps = 20 }));

        var e = Assert.Throws<DdpmException>(() => Samplers.ForConfig(Config("blur"), new SamplerOptions { Kind = "ddim" }));
        Assert.Equal("--sampler ddim does not fit a checkpoint trained with blur noise (use cold)", e.Message);
        e = Assert.Throws<DdpmException>(() => Samplers.ForConfig(Config("gamma"), new SamplerOptions { Kind = "ddpm" }));
        Assert.Contains("use gamma", e.Message);
        e = Assert.Throws<DdpmException>(() => Samplers.ForConfig(Config("gaussian"), new SamplerOptions { Kind = "cold" }));
        Assert.Contains("use ddpm or ddim", e.Message);
        e = Assert.Throws<DdpmUsageException>(() => Samplers.ForConfig(Config("mask"), new SamplerOptions { Eta = 1 }));
        Assert.Contains("--eta applies to --sampler ddim only", e.Message);
        foreach (var version in new[] { 1, 2 })
        {
            var unfitted = (ColdSampler)Samplers.ForConfig(new DiffusionConfig { Noise = "blur", ColdVersion = version });
            e = Assert.Throws<DdpmException>(() => unfitted.Process.Start([1, 1, 28, 28], new Generator(0)));
            Assert.Contains("no start statistics", e.Message);
        }
    }

    [Theory]
    [InlineData("gamma")]
    [InlineData("blur")]
    [InlineData("mask")]
    public void Each_noise_type_trains_with_finite_falling_loss_and_samples_from_its_checkpoint(string noise)
    {
        var run = TestSupport.TempDir();
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 1024);
        var config = new RunConfig
        {
            Model = UNetConfig.FromPreset("tiny"),
            Diffusion = new DiffusionConfig { Noise = noise, Timesteps = 100 },
            Data = new DataConfig { Path = TestSupport.MnistDir },
            Training = new OptimConfig { BatchSize = 64, LearningRate = 2e-3, WarmupSteps = 10, Seed = 1 },
        };
        using (var trainer = Trainer.Create(run, config, data))
            trainer.Run(new TrainerOptions { Epochs = 3, PreviewEvery = 0 });
        var losses = File.ReadLines(Path.Combine(run, LossLog.FileName)).Skip(1)
            .Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        double first = losses.Take(8).Average(), last = losses.TakeLast(8).Average();
        Assert.True(last < 0.8 * first, $"{noise}: loss did not go down: {first:F3} -> {last:F3}");

        var dir = Checkpoint.Resolve(run);
        var saved = Checkpoint.ReadConfig(dir);
        Assert.Equal(noise, saved.Diffusion.Noise);
        Assert.Equal(noise == "blur", saved.Diffusion.StartMixture is not null);
        Assert.Equal(DiffusionConfig.CurrentColdVersion, saved.Diffusion.ColdVersion);
        using var model = Checkpoint.LoadModel(dir);
        var sampler = Samplers.ForConfig(saved.Diffusion, new SamplerOptions { Steps = 10 });
        Assert.IsType(noise == "gamma" ? typeof(GammaDdimSampler) : typeof(ColdSampler), sampler);
        using var scope = NewDisposeScope();
        using var g = new Generator(0);
        var images = sampler.Sample(model, [4, 1, 28, 28], g);
        Assert.Equal(new long[] { 4, 1, 28, 28 }, images.shape);
        Assert.False(images.isnan().any().item<bool>());
        // Different starts (blur's mixture levels, defading's random levels, or gamma noise) give different images, even from
        // this barely trained restorer (defading: mean |difference| ≈ 0.008).
        for (int i = 1; i < 4; i++)
            Assert.True((images[0] - images[i]).abs().mean().item<float>() > 0.002, $"{noise}: samples 0 and {i} are (nearly) the same: mean |difference| {(images[0] - images[i]).abs().mean().item<float>()}");
    }
}
