using Ddpm.Schedules;

namespace Ddpm.Tests;

public class ScheduleTests
{
    [Theory]
    [InlineData(1, 0.9999, 1e-12)]
    [InlineData(20, 0.994231, 1e-6)]
    [InlineData(300, 0.396420, 1e-6)]
    [InlineData(1000, 4.0358e-5, 1e-9)]
    public void Linear_alpha_bar_matches_hand_computed_values(int t, double expected, double tolerance)
    {
        var s = NoiseSchedule.Create("linear", 1000);
        Assert.Equal(expected, s.AlphaBar[t], tolerance);
    }

    [Fact]
    public void Linear_betas_run_from_1e_4_to_0_02_and_t0_is_clean()
    {
        var s = NoiseSchedule.Create("linear", 1000);
        Assert.Equal(0, s.Beta[0]);
        Assert.Equal(1, s.AlphaBar[0]);
        Assert.Equal(1e-4, s.Beta[1], 1e-15);
        Assert.Equal(0.02, s.Beta[1000], 1e-15);
        Assert.Equal(1001, s.AlphaBar.Length);
    }

    public static TheoryData<string> AllNames() => new(NoiseSchedule.Names);

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Every_schedule_has_betas_in_0_1_and_strictly_decreasing_alpha_bar(string name)
    {
        foreach (var T in new[] { 10, 50, 1000 })
        {
            var s = NoiseSchedule.Create(name, T);
            for (int t = 1; t <= T; t++)
            {
                Assert.InRange(s.Beta[t], double.Epsilon, 1 - 1e-12);
                Assert.True(s.AlphaBar[t] < s.AlphaBar[t - 1], $"{name} T={T}: ᾱ_{t} = {s.AlphaBar[t]} is not below ᾱ_{t - 1} = {s.AlphaBar[t - 1]}");
                Assert.True(s.AlphaBar[t] > 0);
            }
        }
    }

    [Fact]
    public void Cosine_matches_Nichol_Dhariwal_formula()
    {
        var s = NoiseSchedule.Create("cosine", 1000);
        Assert.Equal(0.4938435904, s.AlphaBar[500], 1e-9);  // cos²((0.5 + s)/(1 + s)·π/2)/cos²(s/(1 + s)·π/2)
        Assert.Equal(4.1284225e-5, s.Beta[1], 1e-11);
        Assert.Equal(BetaSchedules.MaxBeta, s.Beta[1000]);    // clipped: ᾱ(1) = 0
    }

    [Fact]
    public void Simple_linear_alpha_bar_falls_linearly_then_clips()
    {
        var s = NoiseSchedule.Create("simple-linear", 100);
        Assert.Equal(0.5, s.AlphaBar[50], 1e-12);
        Assert.Equal(0.01, s.AlphaBar[99], 1e-12);
        Assert.Equal(BetaSchedules.MaxBeta, s.Beta[100]);
        Assert.Equal(0.01 * 0.001, s.AlphaBar[100], 1e-15);
    }

    [Fact]
    public void Sigmoid_is_symmetric_around_the_midpoint()
    {
        var s = NoiseSchedule.Create("sigmoid", 1000);
        Assert.Equal(0.5, s.AlphaBar[500], 1e-12);
        Assert.Equal(1 - s.AlphaBar[250], s.AlphaBar[750], 1e-12);
    }

    [Fact]
    public void Exponential_has_constant_beta_and_ends_where_linear_ends()
    {
        var s = NoiseSchedule.Create("exponential", 1000);
        var linear = NoiseSchedule.Create("linear", 1000);
        Assert.Equal(0.0100667017, s.Beta[1], 1e-9);
        Assert.Equal(s.Beta[1], s.Beta[777], 1e-12);
        Assert.Equal(linear.AlphaBar[1000], s.AlphaBar[1000], 1e-12);
    }

    [Fact]
    public void Posterior_variance_is_beta_tilde()
    {
        var s = NoiseSchedule.Create("linear", 1000);
        Assert.Equal(0, s.PosteriorVariance(1));
        int t = 300;
        Assert.Equal((1 - s.AlphaBar[t - 1]) / (1 - s.AlphaBar[t]) * s.Beta[t], s.PosteriorVariance(t), 1e-15);
        Assert.True(s.PosteriorVariance(t) < s.Beta[t]);
    }

    [Fact]
    public void Unknown_schedule_and_bad_T_are_clear_errors()
    {
        var e = Assert.Throws<DdpmException>(() => NoiseSchedule.Create("quadratic", 1000));
        Assert.Contains("unknown schedule 'quadratic'", e.Message);
        Assert.Contains("cosine", e.Message);
        Assert.Throws<DdpmException>(() => NoiseSchedule.Create("linear", 1));
    }
}
