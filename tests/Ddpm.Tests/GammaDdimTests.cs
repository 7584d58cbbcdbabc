using Ddpm.Diffusion;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>The DDIM form of gamma sampling (the authors' generalized_gamma) against the paper's ancestral sampler.</summary>
public class GammaDdimTests
{
    public GammaDdimTests() => TestSupport.Init();

    private const double Mu = 0.2, S = 0.3;

    [Fact]
    public void A_step_is_ddim_eq_12_with_gamma_noise_by_hand()
    {
        using var process = new GammaDiffusion(NoiseSchedule.Create("linear", 1000));
        var s = process.Schedule;
        var sampler = new GammaDdimSampler(process, 1000, eta: 1);
        using var scope = NewDisposeScope();
        // One step t = 500 → 499 with x_t = 0.3, ε̂ = −0.7, z̃ = 0.25, by hand:
        // x̂_0 = (0.3 + √(1−ᾱ_t)·0.7)/√ᾱ_t, σ = √((1−ᾱ_prev)/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)), x = √ᾱ_prev x̂_0 − √(1−ᾱ_prev−σ²)·0.7 + σ·0.25.
        double a = s.AlphaBar[500], ap = s.AlphaBar[499];
        double x0 = (0.3 + Math.Sqrt(1 - a) * 0.7) / Math.Sqrt(a), sigma = Math.Sqrt((1 - ap) / (1 - a) * (1 - a / ap));
        double expected = Math.Sqrt(ap) * x0 - Math.Sqrt(1 - ap - sigma * sigma) * 0.7 + sigma * 0.25;
        var ddim = new DdimSampler(s, 1000, eta: 1);
        var got = ddim.Step(full(1, 1, 1, 1, 0.3, ScalarType.Float64), full(1, 1, 1, 1, -0.7, ScalarType.Float64), 500, 499,
            full(1, 1, 1, 1, 0.25, ScalarType.Float64));
        Assert.Equal(expected, got.item<double>(), 12);
        Assert.Equal(1.0, sampler.Eta);
        Assert.Equal(ddim.States, sampler.States);
    }

    /// <summary>θ_0 = 0.001 keeps the gamma noise close to Gaussian (skewness ≤ 0.2), so the exact denoiser of Gaussian data is
    /// (nearly) exact here too: every correct gamma sampler must return about N(μ, s²).</summary>
    [Theory]
    [InlineData("gamma", 0, 0.0)]   // Algorithm 2, all steps
    [InlineData("ddim", 1000, 1.0)] // the DDIM form with η = 1 and all steps: DDPM's posterior with gamma noise
    public void Gamma_samplers_with_the_exact_denoiser_reach_the_data_mean_and_variance(string kind, int steps, double eta)
    {
        var schedule = NoiseSchedule.Create("linear", 1000);
        var sampler = Samplers.ForConfig(new DiffusionConfig { Noise = "gamma" }, new SamplerOptions { Kind = kind, Steps = steps, Eta = eta });
        Assert.IsType(kind == "gamma" ? typeof(GammaSampler) : typeof(GammaDdimSampler), sampler);
        using var model = new ExactGaussianDenoiser(schedule, Mu, S);
        using var g = new Generator(7);
        using var scope = NewDisposeScope();
        var x = sampler.Sample(model, [16, 1, 28, 28], g); // 12,544 pixels: standard errors 0.003 (mean) and 1.3 % (variance)
        Assert.InRange(x.mean().item<float>(), Mu - 0.015, Mu + 0.015);
        Assert.InRange(x.var().item<float>(), S * S * 0.93, S * S * 1.07);
    }

    [Fact]
    public void Few_deterministic_steps_keep_the_mean_and_stay_in_range_and_are_the_default_for_fewer_steps()
    {
        var config = new DiffusionConfig { Noise = "gamma" };
        var sampler = Samplers.ForConfig(config, new SamplerOptions { Steps = 10 });
        Assert.IsType<GammaDdimSampler>(sampler);
        Assert.IsType<GammaSampler>(Samplers.ForConfig(config));
        Assert.IsType<GammaSampler>(Samplers.ForConfig(config, new SamplerOptions { Steps = 1000 }));
        var schedule = NoiseSchedule.Create("linear", 1000);
        using var model = new ExactGaussianDenoiser(schedule, Mu, S);
        using var scope = NewDisposeScope();
        foreach (var eta in new[] { 0.0, 1.0 })
        {
            // Few DDIM steps lose variance on Gaussian data even with the exact denoiser (the ODE's discretisation); with
            // gamma noise this close to Gaussian, the gamma DDIM form must land where Gaussian DDIM does, not blow up.
            Tensor Run(ISampler s) { using var g = new Generator(3); return s.Sample(model, [16, 1, 28, 28], g); }
            var gamma = Run(Samplers.ForConfig(config, new SamplerOptions { Steps = 10, Eta = eta }));
            var gaussian = Run(new DdimSampler(schedule, 10, eta));
            Assert.False(gamma.isnan().any().item<bool>());
            Assert.InRange(gamma.mean().item<float>(), Mu - 0.015, Mu + 0.015);
            Assert.InRange(gamma.var().item<float>() / gaussian.var().item<float>(), 0.93, 1.07);
        }
        var e = Assert.Throws<DdpmException>(() => Samplers.ForConfig(config, new SamplerOptions { Kind = "dpm++2m" }));
        Assert.Contains("use gamma or ddim", e.Message);
    }
}
