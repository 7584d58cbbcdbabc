using Ddpm.Diffusion;
using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// EDM's sampler (Karras et al. 2022, Algorithm 2; NVlabs/edm <c>generate.py</c> edm_sampler): noise levels
/// σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, σ_N = 0, x_0 ~ N(0, σ_0² I), a Heun (2nd-order) step per level
/// except the last (Euler, to σ = 0). With S_churn &gt; 0 each step first raises the noise to σ̂ = (1 + γ_i) σ_i,
/// γ_i = min(S_churn/N, √2 − 1) (the stochastic variant); S_churn = 0 is Algorithm 1, deterministic. N levels cost 2N − 1 calls.
/// </summary>
internal sealed class EdmSampler : ISampler
{
    public EdmDiffusion Process { get; }
    public double Churn { get; }
    /// <summary>σ_0 &gt; … &gt; σ_{N−1} &gt; σ_N = 0.</summary>
    public IReadOnlyList<double> Sigmas { get; }
    public int Levels => Sigmas.Count - 1;
    public int Steps => 2 * Levels - 1;

    /// <summary>
    /// For trajectories and GIFs: each level as the step t of the checkpoint's β schedule with the same noise level
    /// (ᾱ_t = 1/(1 + σ²), the VP image of x/√(1 + σ²)), strictly decreasing, 0 last.
    /// </summary>
    public IReadOnlyList<int> States { get; }

    /// <summary>EDM's 18 levels (35 model calls), their CIFAR-10 setting.</summary>
    public const int DefaultLevels = 18;

    public EdmSampler(EdmDiffusion process, int levels = DefaultLevels, double churn = 0)
    {
        if (levels < 2) throw new DdpmException($"EDM sampler levels must be >= 2, got {levels}");
        if (churn < 0 || !double.IsFinite(churn)) throw new DdpmException($"S_churn must be >= 0, got {churn}");
        Process = process;
        Churn = churn;
        double a = Math.Pow(EdmDiffusion.SigmaMax, 1 / EdmDiffusion.Rho), b = Math.Pow(EdmDiffusion.SigmaMin, 1 / EdmDiffusion.Rho);
        Sigmas = [.. Enumerable.Range(0, levels).Select(i => Math.Pow(a + (double)i / (levels - 1) * (b - a), EdmDiffusion.Rho)), 0];
        States = EquivalentSteps(process.Schedule, Sigmas);
    }

    private static int[] EquivalentSteps(NoiseSchedule schedule, IReadOnlyList<double> sigmas)
    {
        var states = new int[sigmas.Count];
        for (int i = sigmas.Count - 1; i >= 0; i--)
        {
            double target = 1 / (1 + sigmas[i] * sigmas[i]);
            int nearest = Enumerable.Range(0, schedule.T + 1).MinBy(t => Math.Abs(schedule.AlphaBar[t] - target));
            states[i] = i == sigmas.Count - 1 ? 0 : Math.Max(nearest, states[i + 1] + 1);
        }
        return states;
    }

    /// <summary>D(x; σ) = c_skip x + c_out F(c_in x; c_noise) (EDM eq. 7).</summary>
    private Tensor Denoise(nn.Module<Tensor, Tensor, Tensor> model, Tensor x, double sigma)
    {
        var (skip, output, input) = Process.Coefficients(sigma);
        var label = full(x.shape[0], (float)EdmDiffusion.NoiseLabel(sigma), ScalarType.Float32);
        return x * skip + model.forward(x * input, label) * output;
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        int calls = 0;
        double gamma = Churn > 0 ? Math.Min(Churn / Levels, Math.Sqrt(2) - 1) : 0;
        return ReverseLoop.Walk(model, () => randn(shape, generator: generator) * Sigmas[0], Levels, (x, i) =>
        {
            double sigma = Sigmas[i], next = Sigmas[i + 1];
            // Algorithm 2 lines 5-6: raise the noise level to σ̂ (EDM's S_min = 0, S_max = ∞, S_noise = 1 defaults).
            double hat = sigma * (1 + gamma);
            var xHat = gamma > 0 ? x + randn(shape, generator: generator) * Math.Sqrt(hat * hat - sigma * sigma) : x;
            var d = (xHat - Denoise(model, xHat, hat)) / hat;                 // line 7
            var xNext = xHat + d * (next - hat);                                // line 8 (Euler)
            progress?.Report(++calls);
            if (next > 0)
            {
                var dPrime = (xNext - Denoise(model, xNext, next)) / next;      // lines 9-11 (Heun correction)
                xNext = xHat + (d * 0.5 + dPrime * 0.5) * (next - hat);
                progress?.Report(++calls);
            }
            return xNext;
        }, cancellation, observe is null ? null : (k, x) => observe(States[k], x));
    }
}
