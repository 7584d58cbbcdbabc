using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// RePaint inpainting (Lugmayr et al. 2022, Algorithm 1) with any ε-model trained unconditionally on whole
/// images: at each reverse step the known pixels come from the input noised to the same level,
/// q(x_{t−1} | x_0), the unknown ones from the model's ancestral step; resampling (going back up
/// <see cref="JumpLength"/> steps with q(x_{t+1} | x_t), <see cref="JumpCount"/> − 1 extra times) lets the
/// generated part harmonise with the known part. As in the authors' code (andreas128/RePaint, <c>confs/*.yml</c>) it runs
/// on a respaced schedule of <see cref="DefaultSteps"/> steps (guided-diffusion's <c>space_timesteps</c>) with x̂_0
/// clipped (<c>clip_denoised: true</c>), and its walk through the steps is their <c>get_schedule_jump</c>.
/// </summary>
internal sealed class RePaint
{
    public const int DefaultJumpLength = 10;
    public const int DefaultJumpCount = 10;
    /// <summary>The reference configurations' <c>timestep_respacing: '250'</c> and <c>t_T: 250</c>.</summary>
    public const int DefaultSteps = 250;

    public NoiseSchedule Schedule { get; }
    public int JumpLength { get; }
    public int JumpCount { get; }
    /// <summary>τ_0 = 0 &lt; τ_1 = 1 &lt; … &lt; τ_S = T: the original step of each respaced state s (all T when S = T).</summary>
    public IReadOnlyList<int> Timesteps { get; }
    private readonly AncestralSampler _step;

    /// <summary>What the network predicts; its output is turned into ε̂ (<see cref="ModelOutput"/>).</summary>
    public IPrediction Prediction { get; }

    /// <summary>RePaint for a checkpoint's diffusion settings: its schedule and the network's prediction type.</summary>
    /// <param name="steps">Respaced steps S; 0 = <see cref="DefaultSteps"/>, or T when the schedule is shorter.</param>
    public static RePaint ForConfig(DiffusionConfig diffusion, int jumpLength = DefaultJumpLength, int jumpCount = DefaultJumpCount, int steps = 0)
    {
        if (diffusion.Noise != Diffusion.GaussianDiffusion.ProcessName)
            throw new DdpmException($"RePaint needs a Gaussian-noise checkpoint, this one uses '{diffusion.Noise}'");
        if (diffusion.IsEdm) throw new DdpmException("RePaint runs on a β schedule; this checkpoint was trained with the edm objective (use eps or v)");
        return new RePaint(NoiseSchedule.Create(diffusion.Schedule, diffusion.Timesteps), jumpLength, jumpCount, PredictionTypes.Create(diffusion.Prediction),
            steps == 0 ? Math.Min(DefaultSteps, diffusion.Timesteps) : steps);
    }

    /// <param name="steps">Respaced steps S in 1..T; 0 = all T.</param>
    public RePaint(NoiseSchedule schedule, int jumpLength = DefaultJumpLength, int jumpCount = DefaultJumpCount, IPrediction? prediction = null, int steps = 0)
    {
        Prediction = prediction ?? new EpsilonPrediction();
        if (steps == 0) steps = schedule.T;
        if (steps < 1 || steps > schedule.T) throw new DdpmException($"RePaint steps must be in 1..{schedule.T}, got {steps}");
        if (jumpLength < 1 || jumpLength > steps) throw new DdpmException($"RePaint jump length must be in 1..{steps} (the steps), got {jumpLength}");
        if (jumpCount < 1) throw new DdpmException($"RePaint jump count (resamplings) must be >= 1, got {jumpCount}");
        Schedule = schedule;
        JumpLength = jumpLength;
        JumpCount = jumpCount;
        Timesteps = [0, .. SpacedTimesteps(schedule.T, steps)];
        _step = new AncestralSampler(schedule, SigmaKind.Beta, clipX0: true);
        _sequence = BuildSequence(steps);
        Steps = Enumerable.Range(1, _sequence.Count - 1).Count(i => _sequence[i] < _sequence[i - 1]);
    }

    /// <summary>
    /// guided-diffusion's <c>space_timesteps(T, [S])</c> (used by RePaint's <c>respace.py</c>): the 0-based steps round(i (T − 1)/(S − 1)),
    /// i = 0..S − 1, here 1-based, so the first and (for S &gt; 1) the last step are kept; S = 1 keeps step 1 as theirs does. Rounding is to even at .5, as Python's round.
    /// </summary>
    public static int[] SpacedTimesteps(int T, int steps)
    {
        double stride = steps == 1 ? 1 : (T - 1.0) / (steps - 1), index = 0;
        var result = new int[steps];
        for (int i = 0; i < steps; i++, index += stride) result[i] = 1 + (int)Math.Round(index, MidpointRounding.ToEven); // summed as they sum it
        return result;
    }

    private readonly IReadOnlyList<int> _sequence;

    /// <summary>
    /// The respaced state s of every step, from S to 0 (x_{τ_s}, see <see cref="Timesteps"/>): the authors' <c>get_schedule_jump(t_T = S,
    /// n_sample = 1, jump_length = j, jump_n_sample = r)</c>, whose entries are these states minus one. One step down at a time, and
    /// on reaching a jump point s = 1, 1 + j, 1 + 2j, … below S − j, a walk back up by j, r − 1 times (Fig. 3 of the paper).
    /// </summary>
    public IReadOnlyList<int> TimeSequence() => _sequence;

    private List<int> BuildSequence(int steps)
    {
        int j = JumpLength;
        var jumpsLeft = new Dictionary<int, int>();
        for (int index = 0; index < steps - j; index += j) jumpsLeft[index + 1] = JumpCount - 1; // their 0-based index = state − 1
        var sequence = new List<int> { steps };
        for (int s = steps; s > 0;)
        {
            sequence.Add(--s);
            if (jumpsLeft.TryGetValue(s, out int left) && left > 0)
            {
                jumpsLeft[s] = left - 1;
                for (int i = 0; i < j; i++) sequence.Add(++s);
            }
        }
        return sequence;
    }

    /// <summary>Model evaluations per image (the downward moves of <see cref="TimeSequence"/>).</summary>
    public int Steps { get; }

    /// <param name="known">Images [N, C, H, W] in [-1, 1]; only the pixels where <paramref name="mask"/> is 1 are used.</param>
    /// <param name="mask">1 = known (keep), 0 = generate; broadcastable to <paramref name="known"/>.</param>
    public Tensor Inpaint(nn.Module<Tensor, Tensor, Tensor> network, Tensor known, Tensor mask, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        return ModelOutput.WithEpsilonModel(network, Prediction, Schedule, model => InpaintWith(model, known, mask, generator, progress, cancellation));
    }

    private Tensor InpaintWith(nn.Module<Tensor, Tensor, Tensor> model, Tensor known, Tensor mask, Generator generator,
        IProgress<int>? progress, CancellationToken cancellation)
    {
        var sequence = _sequence;
        var shape = known.shape;
        var keep = mask.to(ScalarType.Float32);
        int done = 0;
        return ReverseLoop.Walk(model, () => randn(shape, generator: generator) /* x_T */, sequence.Count - 1, (x, k) =>
        {
            int from = Timesteps[sequence[k]], to = Timesteps[sequence[k + 1]]; // original steps τ_s
            if (to > from)
            {
                // Resampling (line 10): x_t ~ q(x_t | x_{t−1}) = N(√(1 − β') x_{t−1}, β' I), β' = 1 − ᾱ_t/ᾱ_{t−1} (β_t when not respaced).
                double beta = 1 - Schedule.AlphaBar[to] / Schedule.AlphaBar[from];
                return x * Math.Sqrt(1 - beta) + randn(shape, generator: generator) * Math.Sqrt(beta);
            }
            // Known part: x_{t−1} ~ q(x_{t−1} | x_0) = N(√ᾱ_{t−1} x_0, (1 − ᾱ_{t−1}) I) (Algorithm 1, line 5; exact x_0 at t − 1 = 0).
            var knownPart = to == 0 ? known
                : known * Math.Sqrt(Schedule.AlphaBar[to]) + randn(shape, generator: generator) * Math.Sqrt(1 - Schedule.AlphaBar[to]);
            // Unknown part: the ancestral step x_{t−1} ~ p_θ(x_{t−1} | x_t) (line 7), in the clipped posterior-mean form on the respaced
            // steps (β' = 1 − ᾱ_t/ᾱ_{t−1} of the kept steps).
            var epsilon = model.forward(x, full(shape[0], from, ScalarType.Int64));
            var unknownPart = _step.PosteriorStep(x, epsilon, from, to, to > 0 ? randn(shape, generator: generator) : null);
            progress?.Report(++done);
            return keep * knownPart + (1 - keep) * unknownPart;
        }, cancellation);
    }
}
