namespace Ddpm.Schedules;

/// <summary>
/// Noise schedules as pure functions of T. Each returns β_1..β_T (index 0 holds β_1), in float64.
/// Schedules defined through ᾱ derive β_t = 1 − ᾱ_t/ᾱ_{t−1} and clip it at <see cref="MaxBeta"/> so
/// that ᾱ_T stays positive and the reverse process never divides by zero.
/// </summary>
internal static class BetaSchedules
{
    public const double MaxBeta = 0.999;

    /// <summary>Ho et al. 2020 §4: β linear from 1e-4 to 0.02.</summary>
    public static double[] Linear(int T, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        var betas = new double[T];
        for (int i = 0; i < T; i++)
            betas[i] = T == 1 ? betaStart : betaStart + (betaEnd - betaStart) * i / (T - 1);
        return betas;
    }

    /// <summary>ᾱ_t = 1 − t/T: the signal fraction falls linearly to 0.</summary>
    public static double[] SimpleLinear(int T) => FromAlphaBar(T, t => 1.0 - t);

    /// <summary>Nichol &amp; Dhariwal 2021, eq. 17: ᾱ_t = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2).</summary>
    public static double[] Cosine(int T, double s = 0.008)
    {
        double F(double u) => Math.Pow(Math.Cos((u + s) / (1 + s) * Math.PI / 2), 2);
        return FromAlphaBar(T, u => F(u) / F(0));
    }

    /// <summary>
    /// Jabri et al. 2022 (RIN), sigmoid schedule: ᾱ(u) = (σ(e/τ) − σ((u(e − s) + s)/τ)) / (σ(e/τ) − σ(s/τ)),
    /// with u = t/T, s = start, e = end.
    /// </summary>
    public static double[] Sigmoid(int T, double start = -3, double end = 3, double tau = 1)
    {
        static double Sig(double z) => 1 / (1 + Math.Exp(-z));
        double vStart = Sig(start / tau), vEnd = Sig(end / tau);
        return FromAlphaBar(T, u => (vEnd - Sig((u * (end - start) + start) / tau)) / (vEnd - vStart));
    }

    /// <summary>
    /// ᾱ_t = exp(−k t/T), i.e. a constant β = 1 − exp(−k/T), with k = −ln ᾱ_T of the linear schedule
    /// at the same T so both end at the same noise level.
    /// </summary>
    public static double[] Exponential(int T)
    {
        double k = -Math.Log(AlphaBars(Linear(T))[T]);
        return FromAlphaBar(T, u => Math.Exp(-k * u));
    }

    /// <summary>ᾱ_0..ᾱ_T (ᾱ_0 = 1) from β_1..β_T: ᾱ_t = Π_{s≤t} (1 − β_s).</summary>
    public static double[] AlphaBars(double[] betas)
    {
        var alphaBar = new double[betas.Length + 1];
        alphaBar[0] = 1;
        for (int t = 1; t <= betas.Length; t++) alphaBar[t] = alphaBar[t - 1] * (1 - betas[t - 1]);
        return alphaBar;
    }

    /// <summary>β_t = min(1 − ᾱ(t/T)/ᾱ((t−1)/T), 0.999) for a continuous ᾱ(u), u ∈ [0, 1].</summary>
    private static double[] FromAlphaBar(int T, Func<double, double> alphaBar)
    {
        var betas = new double[T];
        for (int t = 1; t <= T; t++)
        {
            double beta = 1 - alphaBar((double)t / T) / alphaBar((double)(t - 1) / T);
            betas[t - 1] = Math.Clamp(beta, 0, MaxBeta);
        }
        return betas;
    }
}
