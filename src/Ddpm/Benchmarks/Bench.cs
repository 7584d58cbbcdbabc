using System.Diagnostics;
using Ddpm.Data;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Benchmarks;

internal sealed record BenchOptions
{
    public string Preset { get; init; } = UNetConfig.DefaultPreset;
    /// <summary>The training recipe whose network and objective are timed (<see cref="Recipes"/>): the default's unless set.</summary>
    public string Recipe { get; init; } = Recipes.DefaultName;
    public int TrainBatch { get; init; } = 64;
    public int SampleBatch { get; init; } = 64;
    public int Warmup { get; init; } = 3;
    public int Iterations { get; init; } = 10;
    public int Timesteps { get; init; } = 1000;
    /// <summary>Also time a full ancestral (T-step) sampling of 64 images (minutes for T = 1000).</summary>
    public bool FullAncestral { get; init; } = true;
    public Precision Precision { get; init; } = Precision.Bf16;
    /// <summary>Train on the first batch of this MNIST folder instead of uniform noise images (speed can depend on the values).</summary>
    public string? DataPath { get; init; }
    /// <summary>Also time every layer of the training step alone (<see cref="LayerProfile"/>).</summary>
    public bool Layers { get; init; }
}

/// <summary>
/// <c>ddpm bench</c>: throughput of training and sampling for a preset, against this machine's measured
/// matrix-multiply peak. Timings are a warm-up followed by the min/median/max of repeated iterations.
/// </summary>
internal static class Bench
{
    /// <summary>Classes of the synthetic batch (MNIST's ten) when no data folder is given.</summary>
    private const int SyntheticClasses = 10;

    public static BenchReport Run(BenchOptions o, IProgress<string>? progress = null)
    {
        // What `ddpm train` with this recipe and no other options builds: network variant, classes, objective, weights.
        var (prediction, minSnr, lrSchedule, architecture, conditional) = Recipes.Get(o.Recipe).Resolve();
        var config = Architectures.Apply(UNetConfig.FromPreset(o.Preset), architecture) with { NumClasses = conditional ? SyntheticClasses : 0 };
        var runConfig = new RunConfig
        {
            Model = config,
            Diffusion = new DiffusionConfig { Timesteps = o.Timesteps, Prediction = prediction, MinSnrGamma = minSnr },
            Data = new DataConfig(),
            Training = new OptimConfig { BatchSize = o.TrainBatch, Seed = 0, Precision = o.Precision.Name(), LrSchedule = lrSchedule },
        };
        using var data = o.DataPath is { } path
            ? ImageDataset.Load(path, DatasetSplit.Train, o.TrainBatch)
            : ImageDataset.FromTensors(rand(o.TrainBatch, 1, config.ImageSize, config.ImageSize) * 2 - 1,
                randint(SyntheticClasses, [o.TrainBatch], dtype: ScalarType.Int64), "synthetic");
        if (data.Count < o.TrainBatch) throw new DdpmException($"{o.DataPath}: fewer than {o.TrainBatch} images for a training batch");
        using var trainer = Trainer.Create(Path.Combine(Path.GetTempPath(), "ddpm-bench"), runConfig, data);
        var stats = DisposeScopeManager.Statistics;

        progress?.Report("training steps");
        var labels = conditional ? data.Labels : null;
        var trainTimes = Time(o.Warmup, o.Iterations, () => trainer.TrainStep(data.Images, labels));
        long liveAfterWarmup = stats.ThreadTotalLiveCount;
        for (int i = 0; i < o.Iterations; i++) trainer.TrainStep(data.Images, labels);
        long liveAfter = stats.ThreadTotalLiveCount;

        IReadOnlyList<LayerTiming>? layers = null;
        if (o.Layers)
        {
            progress?.Report("layers one by one");
            using var scope = NewDisposeScope();
            layers = LayerProfile.Run(trainer.Model, randn(o.TrainBatch, 1, config.ImageSize, config.ImageSize),
                randint(1, o.Timesteps + 1, [o.TrainBatch], dtype: ScalarType.Int64), 1000 * Stat.Of(trainTimes).Median, o.Iterations);
        }

        progress?.Report("denoising steps");
        var model = trainer.Ema.Model;
        model.eval();
        var sampleTimes = Time(o.Warmup, o.Iterations, () =>
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            model.forward(randn(o.SampleBatch, 1, config.ImageSize, config.ImageSize), full(o.SampleBatch, o.Timesteps / 2, ScalarType.Int64));
        });

        var sample64 = new Dictionary<string, Stat>();
        var ddim = new DdimSampler(Schedules.NoiseSchedule.Create("linear", o.Timesteps), Math.Min(50, o.Timesteps));
        progress?.Report($"sampling 64 images, DDIM {ddim.Steps} steps");
        sample64[$"ddim {ddim.Steps} steps"] = Stat.Of(Time(1, Math.Max(3, o.Iterations / 3), () => SampleOnce(ddim, model, new GenerationOptions())));
        // What `ddpm sample` runs for this recipe's checkpoint: its default sampler, and guidance for a conditional model.
        var standard = Samplers.ForConfig(runConfig.Diffusion, guided: Generation.IsGuided(config.IsConditional, Generation.DefaultGuidance));
        var generation = Generation.Default(config, 64, Generation.DefaultGuidance);
        string guidance = config.IsConditional ? $", guidance {Generation.DefaultGuidance}" : "";
        progress?.Report("sampling 64 images, the default sampler");
        sample64[$"the default ({Samplers.Describe(standard)}{guidance})"] = Stat.Of(Time(1, Math.Max(3, o.Iterations / 3), () => SampleOnce(standard, model, generation)));
        if (o.FullAncestral)
        {
            progress?.Report($"sampling 64 images, DDPM {o.Timesteps} steps");
            var ancestral = new AncestralSampler(Schedules.NoiseSchedule.Create("linear", o.Timesteps));
            sample64[$"ddpm {o.Timesteps} steps"] = Stat.Of(Time(0, 1, () => SampleOnce(ancestral, model, new GenerationOptions())));
        }

        progress?.Report("GEMM peak");
        double fp32 = GemmPeak(ScalarType.Float32), bf16 = GemmPeak(ScalarType.BFloat16);
        double forward = FlopCounter.UNetForward(config);
        var train = Stat.Of(trainTimes.Select(t => o.TrainBatch / t).ToArray());
        var sample = Stat.Of(sampleTimes.Select(t => o.SampleBatch / t).ToArray());
        double trainGflops = train.Median * 3 * forward / 1e9, sampleGflops = sample.Median * forward / 1e9;
        var (peakRss, rss) = Runtime.ProcessMemory.Resident();
        return new BenchReport
        {
            Preset = o.Preset,
            Recipe = o.Recipe,
            Precision = o.Precision.Name(),
            Data = data.Source,
            Parameters = trainer.Model.ParameterCount(),
            Threads = get_num_threads(),
            ConvolutionLayout = ConvolutionCheck.DefaultLayoutIsCorrect(o.Precision) ? "default (NCHW; checked against float64 at startup)" : "channels-last",
            Machine = Machine(),
            TrainBatch = o.TrainBatch,
            TrainImagesPerSecond = train,
            SampleBatch = o.SampleBatch,
            SampleImageStepsPerSecond = sample,
            Sample64Seconds = sample64,
            ForwardGflopPerImage = forward / 1e9,
            TrainGflopPerSecond = trainGflops,
            SampleGflopPerSecond = sampleGflops,
            GemmPeakGflopPerSecondFp32 = fp32,
            GemmPeakGflopPerSecondBf16 = bf16,
            TrainModelFlopsUtilisation = trainGflops / (o.Precision == Precision.Bf16 ? bf16 : fp32),
            PeakResidentMiB = peakRss,
            FinalResidentMiB = rss,
            LiveTensorsAfterWarmup = liveAfterWarmup,
            LiveTensorsAfterSteps = liveAfter,
            MeasuredSteps = o.Iterations,
            Layers = layers,
        };
    }

    /// <summary>64 images as <c>ddpm sample</c> makes them (<see cref="Generation.Run"/>): unconditional, or with the options' labels and guidance.</summary>
    private static void SampleOnce(ISampler sampler, UNet model, GenerationOptions options)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(0);
        Generation.Run(model, sampler, 64, options, g);
    }

    /// <summary>Seconds per call: <paramref name="warmup"/> untimed calls, then <paramref name="iterations"/> timed ones.</summary>
    private static double[] Time(int warmup, int iterations, Action action)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        return times;
    }

    /// <summary>Best GFLOP/s of a 1024×1024 matrix product in the given precision.</summary>
    public static double GemmPeak(ScalarType dtype, int size = 1024, int repeats = 8)
    {
        using var scope = NewDisposeScope();
        var a = randn(size, size).to(dtype);
        var b = randn(size, size).to(dtype);
        var times = Time(2, repeats, () => { using var s = NewDisposeScope(); a.matmul(b); });
        return 2.0 * size * size * size / times.Min() / 1e9;
    }

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{cpu ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
    }
}
