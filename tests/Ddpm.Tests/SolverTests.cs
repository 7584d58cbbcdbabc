using Ddpm.Diffusion.Predictions;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>The Gaussian samplers against the exact denoiser of Gaussian data, and their special cases.</summary>
public class SolverTests
{
    public SolverTests() => TestSupport.Init();

    private const double Mu = 0.2, S = 0.3;
    private static readonly NoiseSchedule Linear = NoiseSchedule.Create("linear", 1000);

    public static TheoryData<string, int, bool, string> Cases => new()
    {
        { "ddpm", 0, false, "eps" },     // Algorithm 2, all 1,000 steps
        { "ddpm", 100, true, "eps" },    // respaced, x̂_0 clipped (posterior-mean form)
        { "ddim", 1000, false, "eps" },  // the ODE with every step (few even steps lose variance: 0.075 at 50, a closed-form check)
        { "dpm++2m", 20, false, "eps" },
        { "dpm++2m", 10, true, "eps" },
        { "dpm++2m", 20, false, "v" },   // through the v → ε conversion
        { "ddpm", 100, false, "v" },
    };

    /// <summary>With a perfect model of x_0 ~ N(μ, s²), every sampler must return samples with mean μ and variance s².</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Samplers_with_the_exact_denoiser_of_gaussian_data_reach_its_mean_and_variance(string kind, int steps, bool clip, string prediction)
    {
        var config = new DiffusionConfig { Prediction = prediction };
        var sampler = Samplers.ForConfig(config, new SamplerOptions { Kind = kind, Steps = steps, ClipX0 = clip });
        using nn.Module<Tensor, Tensor, Tensor> model = prediction == "v" ? new ExactGaussianV(Linear, Mu, S) : new ExactGaussianDenoiser(Linear, Mu, S);
        using var g = new Generator(7);
        using var scope = NewDisposeScope();
        var x = sampler.Sample(model, [16, 1, 28, 28], g); // 12,544 pixels: standard errors 0.003 (mean) and 1.3 % (variance)
        double mean = x.mean().item<float>(), variance = x.var().item<float>();
        Assert.InRange(mean, Mu - 0.015, Mu + 0.015);
        Assert.InRange(variance, S * S * 0.93, S * S * 1.07);
    }

    [Fact]
    public void Dpm_solver_of_order_one_equals_ddim_step_for_step()
    {
        var ddim = new DdimSampler(Linear, 15);
        var dpm = new DpmSolverSampler(Linear, 15, order: 1, timesteps: ddim.Timesteps);
        using var model = new ExactGaussianDenoiser(Linear, Mu, S);
        var a = new List<Tensor>();
        var b = new List<Tensor>();
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        using var scope = NewDisposeScope();
        ddim.Sample(model, [2, 1, 8, 8], g1, observe: (_, x) => a.Add(x.clone().DetachFromDisposeScope()));
        dpm.Sample(model, [2, 1, 8, 8], g2, observe: (_, x) => b.Add(x.clone().DetachFromDisposeScope()));
        Assert.Equal(16, a.Count);
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].allclose(b[i], rtol: 1e-4, atol: 1e-5), $"state {i} differs");
    }

    [Fact]
    public void Dpm_solver_second_order_differs_from_first_and_is_closer_to_a_fine_ode_solution()
    {
        using var model = new ExactGaussianDenoiser(Linear, Mu, S);
        Tensor Run(ISampler sampler) { using var g = new Generator(5); return sampler.Sample(model, [4, 1, 8, 8], g); }
        using var scope = NewDisposeScope();
        var fine = Run(new DdimSampler(Linear, 1000));       // the ODE solved with all 1,000 steps
        double first = (Run(new DpmSolverSampler(Linear, 10, order: 1)) - fine).abs().mean().item<float>();
        double second = (Run(new DpmSolverSampler(Linear, 10, order: 2)) - fine).abs().mean().item<float>();
        // A 1-D computation of the same linear ODE gave errors 0.069 (order 1) and 0.0093 (order 2) per unit of x_T at 10 log-SNR steps.
        Assert.True(second < 0.3 * first, $"order 2 error {second:E2} vs order 1 {first:E2}");
    }

    [Fact]
    public void Log_snr_spacing_is_uniform_in_lambda_and_has_exactly_s_distinct_steps()
    {
        foreach (int steps in new[] { 2, 10, 20, 50, 200 })
        {
            var taus = StepSpacing.LogSnr(Linear, steps, "test");
            Assert.Equal(steps, taus.Distinct().Count());
            Assert.Equal(1, taus[0]);
            Assert.Equal(1000, taus[^1]);
            Assert.True(taus.Zip(taus.Skip(1)).All(p => p.First < p.Second));
        }
        // λ_1 = ½ ln(ᾱ_1/(1 − ᾱ_1)) = ½ ln(0.9999/0.0001) = 4.605, λ_1000 = −5.06: the middle of 3 steps is λ ≈ −0.227 (t ≈ 303).
        var three = StepSpacing.LogSnr(Linear, 3, "test");
        double lambda = 0.5 * Math.Log(Linear.AlphaBar[three[1]] / (1 - Linear.AlphaBar[three[1]]));
        Assert.InRange(lambda, -0.24, -0.21);
    }

    [Fact]
    public void Clipped_ancestral_step_equals_the_unclipped_one_when_x0_stays_in_range()
    {
        var plain = new AncestralSampler(Linear);
        var clipped = new AncestralSampler(Linear, clipX0: true);
        using var scope = NewDisposeScope();
        foreach (int t in new[] { 2, 300, 999 })
        {
            // x_t = √ᾱ x_0 + √(1−ᾱ) ε with |x_0| ≤ 0.9, and ε̂ = ε: x̂_0 = x_0 stays in [−1, 1].
            var x0 = rand(1, 1, 4, 4) * 1.8 - 0.9;
            var eps = randn(1, 1, 4, 4);
            var xt = x0 * Math.Sqrt(Linear.AlphaBar[t]) + eps * Math.Sqrt(1 - Linear.AlphaBar[t]);
            var z = randn(1, 1, 4, 4);
            Assert.True(plain.Step(xt, eps, t, z).allclose(clipped.Step(xt, eps, t, z), rtol: 1e-4, atol: 1e-5), $"t = {t}");
        }
        // Out of range, the clamp changes the step.
        var far = full(1, 1, 2, 2, 3f);
        var e0 = zeros(1, 1, 2, 2);
        var xFar = far * Math.Sqrt(Linear.AlphaBar[10]);
        Assert.False(plain.Step(xFar, e0, 10, e0).allclose(clipped.Step(xFar, e0, 10, e0)));
    }

    [Fact]
    public void Respaced_ancestral_sampler_visits_the_subsequence_and_refuses_bad_steps()
    {
        var sampler = new AncestralSampler(Linear, steps: 4);
        Assert.Equal([1000, 750, 500, 250, 0], sampler.States);
        // β' for 1000 → 750: 1 − ᾱ_1000/ᾱ_750.
        Assert.Equal(Math.Sqrt(1 - Linear.AlphaBar[1000] / Linear.AlphaBar[750]), sampler.SigmaAt(1000, 750), 12);
        Assert.Contains("ddpm steps must be in 1..1000", Assert.Throws<DdpmException>(() => new AncestralSampler(Linear, steps: 1001)).Message);
        Assert.Contains("--clip-x0 applies to --sampler ddpm, ddim, dpm++2m only",
            Assert.Throws<DdpmUsageException>(() => Samplers.ForConfig(new DiffusionConfig { Noise = "gamma" }, new SamplerOptions { ClipX0 = true })).Message);
    }
}
