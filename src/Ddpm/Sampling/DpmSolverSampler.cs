using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2): a multistep solver of the diffusion ODE in the data
/// prediction x̂_0, with α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), λ_t = ln(α_t/σ_t) and h_i = λ_{t_i} − λ_{t_{i−1}}:
/// x_{t_i} = (σ_{t_i}/σ_{t_{i−1}}) x_{t_{i−1}} − α_{t_i}(e^{−h_i} − 1) D_i, with D_i = (1 + 1/(2r_i)) x̂_0^{(i−1)} − 1/(2r_i) x̂_0^{(i−2)},
/// r_i = h_{i−1}/h_i. The first step, and the last one (to t = 0, where λ = ∞), are first order (D = x̂_0), as in
/// k-diffusion's <c>sample_dpmpp_2m</c>; order 1 throughout is DDIM with η = 0 on the same steps. Steps are uniform in λ
/// (<see cref="StepSpacing.LogSnr"/>, the authors' choice for pixel-space models) from t = T to t = 1.
/// </summary>
internal sealed class DpmSolverSampler : ISampler
{
    public NoiseSchedule Schedule { get; }
    public int Order { get; }
    public bool ClipX0 { get; }
    /// <summary>τ_1 = 1 &lt; … &lt; τ_S = T, uniform in λ unless given.</summary>
    public IReadOnlyList<int> Timesteps { get; }
    public int Steps => Timesteps.Count;
    public IReadOnlyList<int> States => Timesteps.Reverse().Append(0).ToArray();

    /// <param name="timesteps">τ_1 &lt; … &lt; τ_S to use instead of the log-SNR spacing (e.g. DDIM's, to compare step for step).</param>
    public DpmSolverSampler(NoiseSchedule schedule, int steps, int order = 2, bool clipX0 = false, IReadOnlyList<int>? timesteps = null)
    {
        if (order is not (1 or 2)) throw new DdpmException($"DPM-Solver++ order must be 1 or 2, got {order}");
        Schedule = schedule;
        Order = order;
        ClipX0 = clipX0;
        Timesteps = timesteps ?? StepSpacing.LogSnr(schedule, steps, "dpm++2m");
    }

    private double Alpha(int t) => Math.Sqrt(Schedule.AlphaBar[t]);
    private double SigmaOf(int t) => Math.Sqrt(1 - Schedule.AlphaBar[t]);
    /// <summary>λ_t = ln(α_t/σ_t), half the log-SNR; +∞ at t = 0.</summary>
    public double Lambda(int t) => t == 0 ? double.PositiveInfinity : Math.Log(Alpha(t) / SigmaOf(t));

    /// <summary>
    /// One solver step from <paramref name="t"/> to <paramref name="next"/>, given x̂_0 at t and (for order 2) the x̂_0 and step of
    /// the previous model call; <paramref name="previousX0"/> null (or next = 0) gives the first-order update.
    /// </summary>
    public Tensor Step(Tensor xt, Tensor x0, int t, int next, Tensor? previousX0, int previousT)
    {
        if (next == 0) return x0; // σ = 0, e^{−h} = 0: the update lands on D = x̂_0.
        double h = Lambda(next) - Lambda(t);
        var d = x0;
        if (previousX0 is not null)
        {
            double r = (Lambda(t) - Lambda(previousT)) / h;
            d = x0 * (1 + 1 / (2 * r)) - previousX0 * (1 / (2 * r));
        }
        return xt * (SigmaOf(next) / SigmaOf(t)) - d * (Alpha(next) * (Math.Exp(-h) - 1));
    }

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null)
    {
        var steps = Timesteps.Reverse().ToArray(); // τ_S..τ_1
        Tensor? previousX0 = null; // the multistep history: x̂_0 of the previous model call, kept across step scopes
        try
        {
            return ReverseLoop.Run(model, shape, generator, steps, (x, epsilon, i) =>
            {
                int t = steps[i], next = i + 1 < steps.Length ? steps[i + 1] : 0;
                var x0 = ModelOutput.X0FromEpsilon(x, epsilon, Alpha(t), SigmaOf(t));
                if (ClipX0) x0 = x0.clamp(-1, 1);
                var result = Step(x, x0, t, next, Order == 2 && i > 0 ? previousX0 : null, i > 0 ? steps[i - 1] : 0);
                previousX0?.Dispose();
                previousX0 = x0.detach().DetachFromDisposeScope();
                return result;
            }, progress, cancellation, observe);
        }
        finally
        {
            previousX0?.Dispose();
        }
    }
}
