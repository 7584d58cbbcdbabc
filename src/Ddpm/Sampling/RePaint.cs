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
/// generated part harmonise with the known part.
/// </summary>
public sealed class RePaint
{
    public const int DefaultJumpLength = 10;
    public const int DefaultJumpCount = 10;

    public NoiseSchedule Schedule { get; }
    public int JumpLength { get; }
    public int JumpCount { get; }
    private readonly AncestralSampler _step;

    /// <summary>What the network predicts; its output is turned into ε̂ (<see cref="ModelOutput"/>).</summary>
    public IPrediction Prediction { get; }

    /// <summary>RePaint for a checkpoint's diffusion settings: its schedule and the network's prediction type.</summary>
    public static RePaint ForConfig(DiffusionConfig diffusion, int jumpLength = DefaultJumpLength, int jumpCount = DefaultJumpCount)
    {
        if (diffusion.Noise != Diffusion.GaussianDiffusion.ProcessName)
            throw new DdpmException($"RePaint needs a Gaussian-noise checkpoint, this one uses '{diffusion.Noise}'");
        if (diffusion.IsEdm) throw new DdpmException("RePaint runs on a β schedule; this checkpoint was trained with the edm objective (use eps or v)");
        return new RePaint(NoiseSchedule.Create(diffusion.Schedule, diffusion.Timesteps), jumpLength, jumpCount, PredictionTypes.Create(diffusion.Prediction));
    }

    public RePaint(NoiseSchedule schedule, int jumpLength = DefaultJumpLength, int jumpCount = DefaultJumpCount, IPrediction? prediction = null)
    {
        Prediction = prediction ?? new EpsilonPrediction();
        if (jumpLength < 1 || jumpLength > schedule.T) throw new DdpmException($"RePaint jump length must be in 1..{schedule.T}, got {jumpLength}");
        if (jumpCount < 1) throw new DdpmException($"RePaint jump count (resamplings) must be >= 1, got {jumpCount}");
        Schedule = schedule;
        JumpLength = jumpLength;
        JumpCount = jumpCount;
        _step = new AncestralSampler(schedule);
        _sequence = BuildSequence();
        Steps = Enumerable.Range(1, _sequence.Count - 1).Count(i => _sequence[i] < _sequence[i - 1]);
    }

    private readonly IReadOnlyList<int> _sequence;

    /// <summary>
    /// The t of every state visited, from T to 0: one step down at a time, and at every multiple of the jump
    /// length (below T) a walk back up by the jump length, JumpCount − 1 times (the paper's Fig. 3 schedule).
    /// </summary>
    public IReadOnlyList<int> TimeSequence() => _sequence;

    private List<int> BuildSequence()
    {
        int T = Schedule.T, j = JumpLength;
        var jumpsLeft = new Dictionary<int, int>();
        for (int t = j; t + j <= T; t += j) jumpsLeft[t] = JumpCount - 1;
        var sequence = new List<int> { T };
        for (int t = T; t > 0;)
        {
            sequence.Add(--t);
            if (jumpsLeft.TryGetValue(t, out int left) && left > 0)
            {
                jumpsLeft[t] = left - 1;
                for (int i = 0; i < j; i++) sequence.Add(++t);
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
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            var x = randn(shape, generator: generator); // x_T
            int done = 0;
            for (int i = 1; i < sequence.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int from = sequence[i - 1], to = sequence[i];
                Tensor next;
                if (to < from)
                {
                    // Known part: x_{t−1} ~ q(x_{t−1} | x_0) = N(√ᾱ_{t−1} x_0, (1 − ᾱ_{t−1}) I) (eq. 8 of RePaint; exact x_0 at t − 1 = 0).
                    var knownPart = to == 0 ? known
                        : known * Math.Sqrt(Schedule.AlphaBar[to]) + randn(shape, generator: generator) * Math.Sqrt(1 - Schedule.AlphaBar[to]);
                    // Unknown part: the ancestral step x_{t−1} ~ p_θ(x_{t−1} | x_t) (eq. 9).
                    var epsilon = model.forward(x, full(shape[0], from, ScalarType.Int64));
                    var unknownPart = _step.Step(x, epsilon, from, from > 1 ? randn(shape, generator: generator) : null);
                    next = keep * knownPart + (1 - keep) * unknownPart;
                    progress?.Report(++done);
                }
                else
                {
                    // Resampling: x_t ~ q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I).
                    next = x * Math.Sqrt(1 - Schedule.Beta[to]) + randn(shape, generator: generator) * Math.Sqrt(Schedule.Beta[to]);
                }
                next = next.contiguous().MoveToOuterDisposeScope();
                x.Dispose();
                x = next;
            }
            var images = x.clamp(-1, 1);
            x.Dispose();
            return images;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
