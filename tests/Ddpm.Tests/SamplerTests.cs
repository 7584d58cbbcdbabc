using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class SamplerTests
{
    public SamplerTests() => TestSupport.Init();

    [Fact]
    public void Last_step_adds_no_noise()
    {
        var sampler = new AncestralSampler(NoiseSchedule.Create("linear", 100));
        using var scope = NewDisposeScope();
        var xt = randn(2, 1, 4, 4);
        var eps = randn(2, 1, 4, 4);
        var a = sampler.Step(xt, eps, 1, randn(2, 1, 4, 4));
        var b = sampler.Step(xt, eps, 1, randn(2, 1, 4, 4) * 100);
        var c = sampler.Step(xt, eps, 1, null);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.True(a.eq(c).all().item<bool>());
    }

    [Fact]
    public void Step_matches_algorithm_2_by_hand()
    {
        var schedule = NoiseSchedule.Create("linear", 1000);
        int t = 500;
        double alpha = schedule.Alpha[t], alphaBar = schedule.AlphaBar[t];
        using var scope = NewDisposeScope();
        var xt = full(new long[] { 1, 1, 1, 1 }, 0.3, ScalarType.Float64);
        var eps = full(new long[] { 1, 1, 1, 1 }, -0.7, ScalarType.Float64);
        var z = full(new long[] { 1, 1, 1, 1 }, 0.25, ScalarType.Float64);
        double mean = (0.3 - (1 - alpha) / Math.Sqrt(1 - alphaBar) * -0.7) / Math.Sqrt(alpha);

        var withBeta = new AncestralSampler(schedule, SigmaKind.Beta).Step(xt, eps, t, z).item<double>();
        Assert.Equal(mean + Math.Sqrt(schedule.Beta[t]) * 0.25, withBeta, 12);
        var withTilde = new AncestralSampler(schedule, SigmaKind.BetaTilde).Step(xt, eps, t, z).item<double>();
        Assert.Equal(mean + Math.Sqrt(schedule.PosteriorVariance(t)) * 0.25, withTilde, 12);
    }

    [Fact]
    public void Perfect_noise_prediction_recovers_x0_from_x1_exactly()
    {
        // x_1 = √α_1 x_0 + √(1 − α_1) ε; the t = 1 step with ε̂ = ε must return x_0.
        var schedule = NoiseSchedule.Create("linear", 1000);
        using var scope = NewDisposeScope();
        var x0 = rand(1, 1, 5, 5, dtype: ScalarType.Float64) * 2 - 1;
        var eps = randn(1, 1, 5, 5, dtype: ScalarType.Float64);
        var x1 = Math.Sqrt(schedule.AlphaBar[1]) * x0 + Math.Sqrt(1 - schedule.AlphaBar[1]) * eps;
        var back = new AncestralSampler(schedule).Step(x1, eps, 1, null);
        Assert.True(back.allclose(x0, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Same_seed_gives_identical_samples_and_output_is_in_range()
    {
        random.manual_seed(5);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        var sampler = new AncestralSampler(NoiseSchedule.Create("linear", 20));
        using var scope = NewDisposeScope();
        Tensor Draw(ulong seed)
        {
            using var g = new Generator(seed);
            return sampler.Sample(model, [4, 1, 28, 28], g);
        }
        var a = Draw(42);
        var b = Draw(42);
        var c = Draw(43);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        Assert.Equal(new long[] { 4, 1, 28, 28 }, a.shape);
        Assert.True(a.min().item<float>() >= -1 && a.max().item<float>() <= 1);
    }

    [Fact]
    public void Sampling_keeps_live_tensor_count_flat()
    {
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        var sampler = new AncestralSampler(NoiseSchedule.Create("linear", 10));
        using var g = new Generator(1);
        var stats = TorchSharp.DisposeScopeManager.Statistics;
        void Once() { using var s = NewDisposeScope(); sampler.Sample(model, [2, 1, 28, 28], g); }
        Once();
        long before = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++) Once();
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }
}
