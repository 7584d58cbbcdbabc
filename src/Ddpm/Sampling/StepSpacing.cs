using Ddpm.Schedules;

namespace Ddpm.Sampling;

/// <summary>The subsequence of steps a sampler with S &lt; T steps visits.</summary>
internal static class StepSpacing
{
    /// <summary>τ_1 &lt; … &lt; τ_S evenly spaced in 1..T with τ_S = T (DDIM's "linear" τ, shared by the strided samplers); steps = 0 means all T.</summary>
    /// <param name="sampler">Names the sampler in the error message.</param>
    public static int[] Even(int T, int steps, string sampler)
    {
        if (steps == 0) steps = T;
        if (steps < 1 || steps > T) throw new DdpmException($"{sampler} steps must be in 1..{T}, got {steps}");
        return Enumerable.Range(1, steps).Select(i => (int)Math.Round((double)i * T / steps)).ToArray();
    }

    /// <summary>
    /// τ_1 = 1 &lt; … &lt; τ_S = T uniform in λ_t = ln(√ᾱ_t/√(1 − ᾱ_t)), the spacing DPM-Solver's authors use for pixel-space
    /// models (LuChengTHU/dpm-solver, <c>skip_type='logSNR'</c>): each step then covers the same change of log-SNR, where even
    /// spacing in t spends most steps at high noise and makes one large final jump. Each λ is rounded to the nearest step,
    /// and steps that would repeat are moved up by one, so there are exactly S of them.
    /// </summary>
    public static int[] LogSnr(NoiseSchedule schedule, int steps, string sampler)
    {
        int T = schedule.T;
        if (steps == 0) steps = T;
        if (steps < 1 || steps > T) throw new DdpmException($"{sampler} steps must be in 1..{T}, got {steps}");
        if (steps == 1) return [T];
        double Lambda(int t) => 0.5 * Math.Log(schedule.AlphaBar[t] / (1 - schedule.AlphaBar[t]));
        double high = Lambda(1), low = Lambda(T);
        var result = new int[steps];
        for (int i = 0; i < steps; i++)
        {
            double target = high + (low - high) * i / (steps - 1);
            int nearest = 1;
            for (int t = 2; t <= T; t++)
                if (Math.Abs(Lambda(t) - target) < Math.Abs(Lambda(nearest) - target)) nearest = t;
            result[i] = i == 0 ? nearest : Math.Max(nearest, result[i - 1] + 1);
        }
        // From the top down, keep room for the steps below (only the first S steps can be crowded at the top).
        result[steps - 1] = T;
        for (int i = steps - 2; i >= 0; i--) result[i] = Math.Min(result[i], result[i + 1] - 1);
        return result;
    }
}
