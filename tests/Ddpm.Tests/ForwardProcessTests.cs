using Ddpm.Diffusion;
using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class ForwardProcessTests
{
    public ForwardProcessTests() => TestSupport.Init();

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(300)]
    [InlineData(1000)]
    public void Mean_and_variance_of_x_t_match_q(int t)
    {
        var schedule = NoiseSchedule.Create("linear", 1000);
        using var process = new GaussianDiffusion(schedule);
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        const int draws = 20000;
        var x0 = full(new long[] { draws, 1, 2, 2 }, 0.6f);
        var steps = full(draws, t, ScalarType.Int64);
        var (xt, eps) = process.TrainingPair(x0, steps, g);
        double mean = xt.mean().item<float>(), variance = xt.var().item<float>();
        Assert.Equal(Math.Sqrt(schedule.AlphaBar[t]) * 0.6, mean, 0.02);
        Assert.Equal(1 - schedule.AlphaBar[t], variance, Math.Max(0.03 * (1 - schedule.AlphaBar[t]), 1e-6));
        Assert.Equal(0, eps.mean().item<float>(), 0.02);
    }

    [Fact]
    public void Batch_with_different_t_uses_each_example_own_step_and_t0_is_clean()
    {
        var schedule = NoiseSchedule.Create("cosine", 100);
        using var process = new GaussianDiffusion(schedule);
        using var scope = NewDisposeScope();
        var x0 = ones(3, 1, 4, 4);
        var noise = full(new long[] { 3, 1, 4, 4 }, 2f);
        var xt = process.QSample(x0, tensor(new long[] { 0, 10, 100 }), noise);
        Assert.Equal(1f, xt[0].max().item<float>(), 6);
        foreach (var (row, t) in new[] { (1, 10), (2, 100) })
        {
            double expected = Math.Sqrt(schedule.AlphaBar[t]) + 2 * Math.Sqrt(1 - schedule.AlphaBar[t]);
            Assert.Equal(expected, xt[row].mean().item<float>(), 5);
        }
    }
}
