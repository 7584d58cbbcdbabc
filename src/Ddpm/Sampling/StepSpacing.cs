namespace Ddpm.Sampling;

/// <summary>The subsequence of steps a sampler with S &lt; T steps visits (DDIM's "linear" τ, shared by every strided sampler).</summary>
public static class StepSpacing
{
    /// <summary>τ_1 &lt; … &lt; τ_S evenly spaced in 1..T with τ_S = T; steps = 0 means all T.</summary>
    /// <param name="sampler">Names the sampler in the error message.</param>
    public static int[] Even(int T, int steps, string sampler)
    {
        if (steps == 0) steps = T;
        if (steps < 1 || steps > T) throw new DdpmException($"{sampler} steps must be in 1..{T}, got {steps}");
        return Enumerable.Range(1, steps).Select(i => (int)Math.Round((double)i * T / steps)).ToArray();
    }
}
