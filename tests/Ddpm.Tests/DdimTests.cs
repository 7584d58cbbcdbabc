using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class DdimTests
{
    public DdimTests() => TestSupport.Init();

    [Fact]
    public void Timesteps_are_an_even_subsequence_ending_at_T()
    {
        var s = new DdimSampler(NoiseSchedule.Create("linear", 1000), 50);
        Assert.Equal(50, s.Steps);
        Assert.Equal(20, s.Timesteps[0]);
        Assert.Equal(1000, s.Timesteps[^1]);
        Assert.Equal(Enumerable.Range(1, 1000), new DdimSampler(NoiseSchedule.Create("linear", 1000), 1000).Timesteps);
    }

    [Fact]
    public void Clipping_clamps_x0_hat_to_the_data_range_and_keeps_the_predicted_noise()
    {
        // Cosine at T = 1000: ᾱ_T ≈ 2.4e-9, so a 1 % error in ε̂ puts x̂_0 hundreds of units away.
        var schedule = NoiseSchedule.Create("cosine", 1000);
        Assert.True(schedule.AlphaBar[1000] < 1e-8);
        var clipped = new DdimSampler(schedule, 50, clipX0: true);
        var plain = new DdimSampler(schedule, 50);
        using var scope = NewDisposeScope();
        var x = randn(2, 1, 4, 4, dtype: ScalarType.Float64);
        var eps = x * 0.99;
        var x0 = plain.Step(x, eps, 1000, 0, null);
        Assert.True(x0.abs().max().item<double>() > 10);
        Assert.True(clipped.Step(x, eps, 1000, 0, null).eq(x0.clamp(-1, 1)).all().item<bool>());
        double ap = schedule.AlphaBar[980];
        var expected = x0.clamp(-1, 1) * Math.Sqrt(ap) + eps * Math.Sqrt(1 - ap);
        Assert.True(clipped.Step(x, eps, 1000, 980, null).allclose(expected, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Eta_one_with_all_steps_is_the_ancestral_step_with_beta_tilde()
    {
        var schedule = NoiseSchedule.Create("cosine", 50);
        var ddim = new DdimSampler(schedule, 50, eta: 1);
        var ddpm = new AncestralSampler(schedule, SigmaKind.BetaTilde);
        using var scope = NewDisposeScope();
        var x = randn(2, 1, 3, 3, dtype: ScalarType.Float64);
        var eps = randn(2, 1, 3, 3, dtype: ScalarType.Float64);
        var z = randn(2, 1, 3, 3, dtype: ScalarType.Float64);
        foreach (var t in new[] { 50, 30, 2, 1 })
        {
            Assert.Equal(Math.Sqrt(schedule.PosteriorVariance(t)), ddim.SigmaAt(t, t - 1), 12);
            Assert.True(ddim.Step(x, eps, t, t - 1, z).allclose(ddpm.Step(x, eps, t, z), rtol: 1e-9, atol: 1e-9), $"t = {t}");
        }
    }

    [Fact]
    public void Eta_one_with_all_steps_samples_what_the_ancestral_sampler_samples()
    {
        random.manual_seed(4);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        var schedule = NoiseSchedule.Create("linear", 20);
        using var scope = NewDisposeScope();
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        var a = new DdimSampler(schedule, 20, eta: 1).Sample(model, [3, 1, 28, 28], g1);
        var b = new AncestralSampler(schedule, SigmaKind.BetaTilde).Sample(model, [3, 1, 28, 28], g2);
        Assert.True(a.allclose(b, atol: 1e-4), $"max difference {(a - b).abs().max().item<float>()}");
    }

    [Fact]
    public void Eta_zero_is_deterministic_given_x_T()
    {
        random.manual_seed(5);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        var sampler = new DdimSampler(NoiseSchedule.Create("linear", 100), 10, eta: 0);
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var a = sampler.Sample(model, [2, 1, 28, 28], g);
        // Only x_T was drawn: the generator is where one randn of the batch's shape leaves it.
        using var reference = new Generator(3);
        randn(new long[] { 2, 1, 28, 28 }, generator: reference);
        Assert.True(g.get_state().eq(reference.get_state()).all().item<bool>());
        using var again = new Generator(3);
        Assert.True(sampler.Sample(model, [2, 1, 28, 28], again).eq(a).all().item<bool>());
    }

    [Fact]
    public void Few_steps_give_finite_images_in_range()
    {
        random.manual_seed(6);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var x = new DdimSampler(NoiseSchedule.Create("linear", 1000), 5, eta: 0.5).Sample(model, [4, 1, 28, 28], g);
        Assert.Equal(new long[] { 4, 1, 28, 28 }, x.shape);
        Assert.True(x.isfinite().all().item<bool>());
        Assert.True(x.min().item<float>() >= -1 && x.max().item<float>() <= 1);
        Assert.True(x.std().item<float>() > 0.01);
    }

    [Fact]
    public void Bad_sampler_settings_are_clear_errors()
    {
        var diffusion = new DiffusionConfig { Timesteps = 100 };
        Assert.Contains("DDIM steps must be in 1..100", Assert.Throws<DdpmException>(() => Samplers.ForConfig(diffusion, new SamplerOptions { Kind = "ddim", Steps = 101 })).Message);
        Assert.Contains("ddpm steps must be in 1..100", Assert.Throws<DdpmException>(() => Samplers.ForConfig(diffusion, new SamplerOptions { Kind = "ddpm", Steps = 101 })).Message);
        Assert.Equal(10, Samplers.ForConfig(diffusion, new SamplerOptions { Kind = "ddpm", Steps = 10 }).Steps); // respaced
        Assert.IsType<DdimSampler>(Samplers.ForConfig(diffusion, new SamplerOptions { Kind = "ddim", Steps = 10 }));
        Assert.IsType<DpmSolverSampler>(Samplers.ForConfig(diffusion)); // the default
    }
}
