using Ddpm.Model;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>What to generate besides the count: classes (conditional models), guidance and recording.</summary>
internal sealed record GenerationOptions
{
    public int BatchSize { get; init; } = 64;
    /// <summary>Class of each image (int64 [N]) for a conditional model; null = unconditional (∅ for a conditional model).</summary>
    public Tensor? Labels { get; init; }
    /// <summary>Classifier-free guidance scale w (with <see cref="Labels"/>).</summary>
    public double Guidance { get; init; }
    public TrajectoryRecorder? Recorder { get; init; }
}

/// <summary>N images from a sampler in batches, each batch with its labels and an optional trajectory recorder.</summary>
internal static class Generation
{
    /// <summary>The guidance scale w a conditional checkpoint trained for at least <see cref="ShortRunSteps"/> samples with by
    /// default: the best of the 30-minute default run (4,232 steps; BENCHMARKS.md).</summary>
    public const double DefaultGuidance = 0.25;
    /// <summary>The default w of a shorter run: the best of the 10-minute run (1,295 steps), where 0.25 scored 33.6 and 0.5 21.1.</summary>
    public const double ShortRunGuidance = 0.5;
    /// <summary>Where the default w changes: the best w was 0.5 at 1,295 and 1,532 steps, 0.25 (or 0.375, as good) at 2,283 and
    /// 2,383, and 0.25 at 3,279 and later (BENCHMARKS.md, "Guidance for the DDIM default"): between the two measured sides.</summary>
    public const long ShortRunSteps = 1900;

    /// <summary>The default guidance for a checkpoint trained for <paramref name="trainedSteps"/> steps: a less trained conditional
    /// model needs more push towards its class (the best w fell from 0.5 to 0.25 between the 10- and 30-minute runs).</summary>
    public static double DefaultGuidanceFor(long trainedSteps) => trainedSteps < ShortRunSteps ? ShortRunGuidance : DefaultGuidance;

    /// <summary>Whether sampling uses classifier-free guidance, which picks the default sampler (<see cref="Samplers.DefaultFor"/>):
    /// only a conditional model is guided, and w = 0 is its plain conditional model.</summary>
    public static bool IsGuided(bool conditional, double guidance) => conditional && guidance > 0;

    /// <summary>
    /// What a checkpoint generates when nothing is asked for: a conditional model draws its classes in turn (balanced when n is a
    /// multiple of the class count) with classifier-free guidance w (<see cref="DefaultGuidanceFor"/>); an unconditional model has no labels.
    /// </summary>
    public static GenerationOptions Default(UNetConfig model, int n, double guidance) =>
        model.IsConditional ? new GenerationOptions { Labels = Cycling(Enumerable.Range(0, model.NumClasses).ToArray(), n), Guidance = guidance } : new GenerationOptions();

    /// <param name="progressFor">Progress for the batch of images [first, first + count): (first, count) → progress.</param>
    public static Tensor Run(UNet model, ISampler sampler, int n, GenerationOptions options, Generator generator,
        Func<int, int, IProgress<int>?>? progressFor = null, CancellationToken cancellation = default)
    {
        if (n < 1) throw new DdpmException($"number of images must be >= 1, got {n}");
        if (options.BatchSize < 1) throw new DdpmException($"batch size must be >= 1, got {options.BatchSize}");
        if (options.Labels is { } all && all.shape[0] != n) throw new ArgumentException($"{all.shape[0]} labels for {n} images", nameof(options));
        var config = model.Config;
        var chunks = new List<Tensor>();
        for (int done = 0; done < n; done += options.BatchSize)
        {
            int count = Math.Min(options.BatchSize, n - done);
            using var guided = options.Labels is { } labels ? new GuidedModel(model, labels.narrow(0, done, count), options.Guidance) : null;
            chunks.Add(sampler.Sample(guided ?? (nn.Module<Tensor, Tensor, Tensor>)model, [count, config.ImageChannels, config.ImageSize, config.ImageSize],
                generator, progressFor?.Invoke(done, count), cancellation, options.Recorder is { } r ? r.Observe : null));
        }
        return chunks.Count == 1 ? chunks[0] : cat(chunks, 0);
    }

    /// <summary>Labels for <paramref name="perDigit"/> images of each class in order: one grid row per class.</summary>
    public static int[] RowLabels(IReadOnlyList<int> classes, int perDigit) => [.. classes.SelectMany(c => Enumerable.Repeat(c, perDigit))];

    /// <summary>n labels cycling through the classes (balanced when n is a multiple of the count).</summary>
    public static int[] CyclingLabels(IReadOnlyList<int> classes, int n) => [.. Enumerable.Range(0, n).Select(i => classes[i % classes.Count])];

    /// <summary><see cref="RowLabels"/> as an int64 tensor.</summary>
    public static Tensor RowsOf(IReadOnlyList<int> classes, int perDigit) => AsTensor(RowLabels(classes, perDigit));

    /// <summary><see cref="CyclingLabels"/> as an int64 tensor.</summary>
    public static Tensor Cycling(IReadOnlyList<int> classes, int n) => AsTensor(CyclingLabels(classes, n));

    /// <summary>Class labels as the int64 tensor the network's class embedding takes.</summary>
    public static Tensor AsTensor(IReadOnlyList<int> labels) => tensor(labels.Select(l => (long)l).ToArray());
}
