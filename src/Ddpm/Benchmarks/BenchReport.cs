namespace Ddpm.Benchmarks;

/// <summary>Min, median and max of repeated timings, in the unit of the quantity.</summary>
internal sealed record Stat(double Min, double Median, double Max)
{
    public static Stat Of(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Stat(sorted[0], median, sorted[^1]);
    }
}

internal sealed record BenchReport
{
    public required string Preset { get; init; }
    /// <summary>The training recipe whose network and objective were timed.</summary>
    public required string Recipe { get; init; }
    /// <summary>Convolution compute precision ("fp32" or "bf16"); utilisation is against that precision's GEMM peak.</summary>
    public required string Precision { get; init; }
    /// <summary>Where the training batch came from: a data folder, or "synthetic" (uniform noise).</summary>
    public required string Data { get; init; }
    public required long Parameters { get; init; }
    public required int Threads { get; init; }
    /// <summary>The layout the multi-channel convolutions ran in (<see cref="Model.ConvolutionCheck"/>).</summary>
    public required string ConvolutionLayout { get; init; }
    public required string Machine { get; init; }
    public required int TrainBatch { get; init; }
    /// <summary>Training images per second (forward + backward + AdamW + EMA).</summary>
    public required Stat TrainImagesPerSecond { get; init; }
    public required int SampleBatch { get; init; }
    /// <summary>Images per second through one denoising step (one forward pass).</summary>
    public required Stat SampleImageStepsPerSecond { get; init; }
    /// <summary>Seconds to sample 64 images, per sampler ("ddpm T=1000", "ddim 50").</summary>
    public required IReadOnlyDictionary<string, Stat> Sample64Seconds { get; init; }
    public required double ForwardGflopPerImage { get; init; }
    public required double TrainGflopPerSecond { get; init; }
    public required double SampleGflopPerSecond { get; init; }
    public required double GemmPeakGflopPerSecondFp32 { get; init; }
    public required double GemmPeakGflopPerSecondBf16 { get; init; }
    /// <summary>Training GFLOP/s over the GEMM peak of the compute precision.</summary>
    public required double TrainModelFlopsUtilisation { get; init; }
    public required double PeakResidentMiB { get; init; }
    public required double FinalResidentMiB { get; init; }
    public required long LiveTensorsAfterWarmup { get; init; }
    public required long LiveTensorsAfterSteps { get; init; }
    public required int MeasuredSteps { get; init; }
    /// <summary>Per-layer time of a training step (with --layers), rows summing to the step.</summary>
    public IReadOnlyList<LayerTiming>? Layers { get; init; }
}
