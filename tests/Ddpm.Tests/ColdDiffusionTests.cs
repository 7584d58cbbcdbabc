using Ddpm.Data;
using Ddpm.Diffusion;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Cold diffusion as Bansal et al.'s code generates: defading to random levels, blur started from a fitted mixture.</summary>
public class ColdDiffusionTests
{
    public ColdDiffusionTests() => TestSupport.Init();

    [Fact]
    public void Fade_curve_matches_the_authors_kernels_at_their_setting()
    {
        // Their get_kernels_with_schedule (κ = 0.15, initial_mask = 11, T = 50), evaluated independently in Python
        // (prod over i < 50 of 1 − exp(−d²/(2(0.15(11 + i))²))): a pixel 20 px from the centre keeps 47 % at T, one 30 px away 98 %.
        Assert.Equal(0.47113093788122073, DefadingDiffusion.Curve(20, 50, 1)[50], 12);
        Assert.Equal(0.98130613874009, DefadingDiffusion.Curve(30, 50, 1)[50], 12);
        Assert.Equal(0.9922890410639884, DefadingDiffusion.Curve(10, 50, 1)[10], 12);
        Assert.Equal(0, DefadingDiffusion.Curve(0, 50, 1)[1]);
        // T = 1000 runs the same 50 factors as 1000 of exponent 1/20: close to the T = 50 fade at the same t/T.
        Assert.Equal(DefadingDiffusion.Curve(20, 50, 1)[50], DefadingDiffusion.Curve(20, 1000, 1)[1000], 1);
        Assert.Equal(13, DefadingDiffusion.Centre(28));
        Assert.Equal(63, DefadingDiffusion.Centre(128));
    }

    [Theory]
    [InlineData(50)]
    [InlineData(1000)]
    public void Fade_starts_at_the_centre_grows_outwards_and_covers_every_pixel_at_T(int timesteps)
    {
        var process = new DefadingDiffusion(NoiseSchedule.Create("linear", timesteps), 0);
        using var scope = NewDisposeScope();
        var alpha = process.Alphas(28, 28);
        Assert.True(alpha[0].eq(1).all().item<bool>());
        Assert.True((alpha[1..] - alpha[..^1]).le(0).all().item<bool>(), "α_t must not grow with t");
        Assert.InRange(alpha[timesteps].max().item<float>(), 0, 1.001e-3);
        Assert.True(alpha[timesteps].max().item<float>() > 0.5e-3, "the width scale is the smallest that fades the corner to 10⁻³");
        int half = timesteps / 2;
        Assert.True(alpha[half, 13, 13].item<float>() < alpha[half, 13, 20].item<float>());
        Assert.True(alpha[half, 13, 20].item<float>() < alpha[half, 27, 27].item<float>());
        // The scale is the root of α_T(corner) = 10⁻³: slightly less width leaves the corner above it.
        double s = DefadingDiffusion.Scale(28, 28, timesteps), far = Math.Sqrt(14 * 14 + 14 * 14);
        Assert.Equal(1e-3, DefadingDiffusion.Curve(far, timesteps, s)[timesteps], 6);
        Assert.True(DefadingDiffusion.Curve(far, timesteps, 0.99 * s)[timesteps] > 1e-3);
        Assert.InRange(s, 1.5, 1.7);
    }

    [Fact]
    public void Defading_trains_towards_a_random_level_per_image_and_starts_from_one()
    {
        var process = new DefadingDiffusion(NoiseSchedule.Create("linear", 100), 0);
        using var scope = NewDisposeScope();
        var x0 = TestDigits.First(512);
        using var g = new Generator(3);
        var (input, target) = process.TrainingPair(x0, full(512, 100, ScalarType.Int64), g);
        Assert.True(target.eq(x0).all().item<bool>());
        // At T the input is the level itself: constant per image, uniform on [−½, ½] (mean 0, variance 1/12).
        var levels = input.flatten(1);
        Assert.InRange((levels.max(1).values - levels.min(1).values).max().item<float>(), 0, 2e-3);
        var level = levels.mean([1]);
        Assert.InRange(level.min().item<float>(), -0.501, -0.45);
        Assert.InRange(level.max().item<float>(), 0.45, 0.501);
        Assert.InRange(level.mean().item<float>(), -0.04, 0.04);
        Assert.InRange(level.var().item<float>(), 1 / 12.0 * 0.85, 1 / 12.0 * 1.15);
        // The start: constant levels too, a different one per sample.
        var start = process.Start([64, 1, 28, 28], g);
        Assert.True(start.Perturbation!.eq(0).all().item<bool>());
        var s = start.X.flatten(1);
        Assert.True(s.std(1).max().item<float>() == 0);
        Assert.InRange(s.mean([1]).std().item<float>(), 0.2, 0.37);
    }

    [Fact]
    public void Two_defading_samples_from_different_start_levels_differ_and_keep_their_level()
    {
        // A restorer that answers "the level everywhere" restores a flat image: each sample must stay at its own start level.
        var process = new DefadingDiffusion(NoiseSchedule.Create("linear", 100), 0);
        using var scope = NewDisposeScope();
        var sampler = new ColdSampler(process, 20);
        using var g = new Generator(0);
        var images = sampler.Sample(new IdentityRestorer(), [2, 1, 28, 28], g);
        var levels = images.flatten(1);
        Assert.True(levels.std(1).max().item<float>() < 1e-6);
        Assert.True((levels[0, 0] - levels[1, 0]).abs().item<float>() > 1e-3, "two samples from two levels must differ");
    }

    [Fact]
    public void Blur_removes_the_carried_perturbation_when_asked()
    {
        // Algorithm 2 carries x_T − D(x̂_0, T) into x_0 unchanged; from x_T = D(x_0, T) + δz with a perfect restorer the
        // result is x_0 + δz, or x_0 when the sampler subtracts δz as the authors' all_sample does.
        var process = new BlurDiffusion(NoiseSchedule.Create("linear", 100), start: null, perturbation: 0.004);
        using var scope = NewDisposeScope();
        var x0 = TestDigits.First(3);
        var perturbation = randn(3, 1, 28, 28, generator: new Generator(1)) * 0.004;
        ColdStart Start() => new(process.Degrade(x0, process.T) + perturbation, perturbation);
        using var g = new Generator(0);
        var removed = new ColdSampler(process, 20).SampleFrom(new OracleRestorer(x0), Start, [3, 1, 28, 28], g);
        var kept = new ColdSampler(process, 20, removePerturbation: false).SampleFrom(new OracleRestorer(x0), Start, [3, 1, 28, 28], g);
        Assert.True(removed.allclose(x0, rtol: 0, atol: 1e-4), $"max error {(removed - x0).abs().max().item<float>()}");
        Assert.True(kept.allclose((x0 + perturbation).clamp(-1, 1), rtol: 0, atol: 1e-4));
        Assert.True((kept - removed).abs().max().item<float>() > 5e-3);
        Assert.True(process.RemovesPerturbation);
        Assert.False(new BlurDiffusion(NoiseSchedule.Create("linear", 100), -0.7, 0.1, 0.05).RemovesPerturbation); // version 1
    }

    [Fact]
    public void A_perturbation_given_at_sampling_time_reaches_the_defading_start_and_is_removed_from_the_result()
    {
        var config = new DiffusionConfig { Noise = "mask", Timesteps = 100, StartPerturbation = 0 };
        var sampler = (ColdSampler)Samplers.ForConfig(config, new SamplerOptions { Steps = 20, StartPerturbation = 0.1 });
        Assert.Equal(0.1, sampler.Process.Perturbation);
        Assert.True(sampler.RemovesPerturbation);
        using var scope = NewDisposeScope();
        using (var g = new Generator(2))
        {
            // The start is a level per image plus δz: its spread within an image is δ (the level itself is flat).
            var start = sampler.Process.Start([16, 1, 28, 28], g);
            Assert.InRange((start.X - start.Perturbation!).flatten(1).std(1).max().item<float>(), 0, 1e-6);
            Assert.InRange(start.X.flatten(1).std(1).mean().item<float>(), 0.095, 0.105);
        }
        // With a perfect restorer Algorithm 2 ends at x_0 + δz + α_T (x_end − x_0); the sampler subtracts δz, and α_T ≤ 10⁻³
        // with |x_end − x_0| ≤ 1.5 leaves at most 1.5·10⁻³.
        var x0 = TestDigits.First(3);
        using var g2 = new Generator(0);
        var images = sampler.Sample(new OracleRestorer(x0), [3, 1, 28, 28], g2);
        Assert.True(images.allclose(x0, rtol: 0, atol: 1.6e-3), $"max error {(images - x0).abs().max().item<float>()}");
        using var g3 = new Generator(0);
        var kept = new ColdSampler(sampler.Process, 20, removePerturbation: false).Sample(new OracleRestorer(x0), [3, 1, 28, 28], g3);
        Assert.True((kept - images).abs().max().item<float>() > 0.2, "without the subtraction δz = 0.1·z stays in the result");
        Assert.Throws<DdpmException>(() => Samplers.ForConfig(new DiffusionConfig(), new SamplerOptions { StartPerturbation = 0.1 }));
        Assert.Throws<DdpmException>(() => Samplers.ForConfig(config with { ColdVersion = 1 }, new SamplerOptions { StartPerturbation = 0.1 }));
    }

    [Fact]
    public void Mixture_fit_recovers_a_known_mixture()
    {
        // 0.3 N(−0.8, 0.05²) + 0.7 N(−0.2, 0.1²), 20,000 draws.
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        long n = 20_000, n1 = 6_000;
        var points = cat([randn(n1, 1, generator: g) * 0.05 - 0.8, randn(n - n1, 1, generator: g) * 0.1 - 0.2], 0);
        var fit = GaussianMixture.Fit(points, components: 2, tolerance: 1e-8);
        int a = fit.Means[0][0] < fit.Means[1][0] ? 0 : 1, b = 1 - a;
        Assert.Equal(0.3, fit.Weights[a], 2);
        Assert.Equal(-0.8, fit.Means[a][0], 2);
        Assert.Equal(-0.2, fit.Means[b][0], 2);
        Assert.Equal(0.05, Math.Sqrt(fit.Covariances[a][0][0]), 2);
        Assert.Equal(0.1, Math.Sqrt(fit.Covariances[b][0][0]), 2);
    }

    [Fact]
    public void One_component_is_the_sample_mean_and_covariance_and_sampling_reproduces_a_mixtures_moments()
    {
        using var scope = NewDisposeScope();
        // Four 2-D points: mean (1, 2); deviations (−2, −2), (0, −1), (2, 2), (0, 1), so (1/N) Σ d dᵀ = [[8, 8], [8, 10]]/4.
        var points = tensor(new double[] { -1, 0, 1, 1, 3, 4, 1, 3 }).view(4, 2);
        var one = GaussianMixture.Fit(points, components: 1);
        Assert.Equal([1.0, 2.0], one.Means[0]);
        Assert.Equal(2 + GaussianMixture.Regularisation, one.Covariances[0][0][0], 12);
        Assert.Equal(2, one.Covariances[0][0][1], 12);
        Assert.Equal(2.5 + GaussianMixture.Regularisation, one.Covariances[0][1][1], 12);

        // A mixture's mean Σ π_k μ_k and variance Σ π_k (σ_k² + μ_k²) − mean²: 0.25·(−1) + 0.75·1 = 0.5 and
        // 0.25·(0.04 + 1) + 0.75·(0.09 + 1) − 0.25 = 0.8275.
        var mixture = new GaussianMixture { Weights = [0.25, 0.75], Means = [[-1.0], [1.0]], Covariances = [[[0.04]], [[0.09]]] };
        var draws = mixture.Sample(200_000, new Generator(5)).to(ScalarType.Float64);
        Assert.InRange(draws.mean().item<double>(), 0.5 - 0.01, 0.5 + 0.01);
        Assert.InRange(draws.var().item<double>(), 0.8275 - 0.015, 0.8275 + 0.015);
    }

    [Fact]
    public void Blur_start_mixture_reproduces_the_spread_of_the_training_means()
    {
        using var scope = NewDisposeScope();
        var x0 = TestDigits.First(4096);
        var config = NoiseProcesses.Prepare(new DiffusionConfig { Noise = "blur" }, x0);
        Assert.Equal(BlurDiffusion.MixtureComponents, config.StartMixture!.Components);
        Assert.Equal(BlurDiffusion.MixturePerturbation, config.StartPerturbation);
        var means = x0.mean([1, 2, 3]).to(ScalarType.Float64);
        var process = (BlurDiffusion)NoiseProcesses.Create(config);
        var start = process.Start([4096, 1, 28, 28], new Generator(2));
        var levels = (start.X - start.Perturbation!).mean([1, 2, 3]).to(ScalarType.Float64);
        Assert.InRange(levels.mean().item<double>() - means.mean().item<double>(), -0.01, 0.01);
        Assert.InRange(levels.std().item<double>() / means.std().item<double>(), 0.93, 1.07);
        // Its tails too: the 5 % and 95 % quantiles of the start levels are within 0.02 of the data's.
        foreach (var q in new[] { 0.05, 0.95 })
            Assert.InRange(levels.quantile(q).item<double>() - means.quantile(q).item<double>(), -0.02, 0.02);
        Assert.Equal(0.0, NoiseProcesses.Prepare(new DiffusionConfig { Noise = "mask" }, x0).StartPerturbation);
    }

    [Theory]
    [InlineData("mask", typeof(MaskDiffusion))]
    [InlineData("blur", typeof(BlurDiffusion))]
    public void Configs_written_before_the_version_field_keep_the_first_version(string noise, Type process)
    {
        var config = new RunConfig
        {
            Model = Model.UNetConfig.FromPreset("tiny"),
            Diffusion = new DiffusionConfig { Noise = noise, DegradedMean = -0.7, DegradedStd = 0.1, StartPerturbation = 0.05 },
            Data = new DataConfig(),
            Training = new OptimConfig(),
        };
        var json = config.ToJson();
        var old = System.Text.RegularExpressions.Regex.Replace(json, "\\s*\"coldVersion\": 2,", "");
        Assert.NotEqual(json, old);
        var loaded = RunConfig.FromJson(old, "old config");
        Assert.Equal(1, loaded.Diffusion.ColdVersion);
        Assert.IsType(process, NoiseProcesses.Create(loaded.Diffusion));
        Assert.Equal(2, RunConfig.FromJson(json, "new config").Diffusion.ColdVersion);
        if (noise == "mask") Assert.IsType<DefadingDiffusion>(NoiseProcesses.Create(RunConfig.FromJson(json, "new config").Diffusion));
    }
}
