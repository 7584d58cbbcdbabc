using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ddpm.Benchmarks;
using Ddpm.Cli.Display;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Training;
using Spectre.Console;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm bench</c>: training and sampling throughput, FLOP utilisation and memory for a preset.</summary>
internal static class BenchCommand
{
    private static readonly Option<string> Preset = CommonOptions.Preset();
    private static readonly Option<string> Recipe = CommonOptions.OneOf("--recipe", "Training recipe whose network and objective are timed (as ddpm train builds them)", Recipes.Names, Recipes.DefaultName);
    private static readonly Option<int> BatchSize = CommonOptions.Positive(new Option<int>("--batch-size") { Description = "Training batch (as in training)", DefaultValueFactory = _ => 64 });
    private static readonly Option<int> SampleBatch = CommonOptions.Positive(new Option<int>("--sample-batch") { Description = "Images per denoising step", DefaultValueFactory = _ => 64 });
    private static readonly Option<int> Iterations = CommonOptions.Range(new Option<int>("--iterations") { Description = "Timed iterations per measurement (after 3 warm-up ones)", DefaultValueFactory = _ => 10 }, 1, 10_000);
    private static readonly Option<bool> Quick = new("--quick") { Description = "Smoke run: 2 iterations, T = 50, no full ancestral sampling" };
    private static readonly Option<string?> Json = new("--json") { Description = "Also write the results as JSON to this file" };
    private static readonly Option<int> Threads = CommonOptions.Threads();
    private static readonly Option<string> Precision = CommonOptions.Precision("Convolution precision: auto (as training picks it on this CPU), bf16 with fp32 master weights, or fp32");
    private static readonly Option<string?> Data = new("--data") { Description = "Train on a batch of this MNIST folder instead of uniform noise images" };
    private static readonly Option<bool> Layers = new("--layers") { Description = "Also time each layer of the training step alone: where the step's time goes" };
    private static readonly Option<bool> SkipAncestral = new("--skip-ancestral") { Description = "Do not time the full T-step ancestral sampling (minutes at T = 1000)" };

    public static Command Create()
    {
        var command = new Command("bench", "Measure training and sampling speed, model-FLOPs utilisation against this machine's GEMM peak, and memory");
        foreach (var o in new Option[] { Preset, Recipe, BatchSize, SampleBatch, Iterations, Quick, Json, Threads, Precision, SkipAncestral, Data, Layers })
            command.Add(o);
        command.SetAction(parse =>
        {
            CommonOptions.ApplyThreads(parse.GetValue(Threads));
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(Json) is { } jsonPath) OutputPath.EnsureWritable(jsonPath);
            bool quick = parse.GetValue(Quick);
            var options = new BenchOptions
            {
                Preset = parse.GetValue(Preset)!,
                Recipe = parse.GetValue(Recipe)!,
                TrainBatch = parse.GetValue(BatchSize),
                SampleBatch = parse.GetValue(SampleBatch),
                Iterations = quick ? 2 : parse.GetValue(Iterations),
                Warmup = quick ? 1 : 3,
                Timesteps = quick ? 50 : 1000,
                FullAncestral = !quick && !parse.GetValue(SkipAncestral),
                Precision = PrecisionNames.Resolve(parse.GetValue(Precision)!),
                DataPath = parse.GetValue(Data),
                Layers = parse.GetValue(Layers),
            };
            var report = Bench.Run(options, new SyncProgress<string>(m => output.WriteLine($"bench: {m}...")));
            Print(output, report);
            if (parse.GetValue(Json) is { } json)
            {
                File.WriteAllText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
                output.WriteLine($"Wrote {json}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(TextWriter output, BenchReport r)
    {
        static string S(Stat s, string f) => $"{s.Min.ToString(f, CultureInfo.InvariantCulture)} / {s.Median.ToString(f, CultureInfo.InvariantCulture)} / {s.Max.ToString(f, CultureInfo.InvariantCulture)}";
        static string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("measure").AddColumn("value");
        table.AddRow("machine", Markup.Escape(r.Machine));
        table.AddRow("model", $"{r.Preset}, recipe {r.Recipe}, {r.Parameters:N0} parameters, {r.Precision}, {F(r.ForwardGflopPerImage, "F3")} GFLOP/image forward; {r.Threads} threads; convolution layout {r.ConvolutionLayout}; training batch: {Markup.Escape(r.Data)}");
        table.AddRow($"train images/s (batch {r.TrainBatch}; min / median / max)", S(r.TrainImagesPerSecond, "F1"));
        table.AddRow($"denoising-step images/s (batch {r.SampleBatch})", S(r.SampleImageStepsPerSecond, "F1"));
        foreach (var (name, stat) in r.Sample64Seconds) table.AddRow($"sample 64 images, {name} (s)", S(stat, "F2"));
        table.AddRow("GEMM peak fp32 / bf16 (GFLOP/s)", $"{F(r.GemmPeakGflopPerSecondFp32, "F1")} / {F(r.GemmPeakGflopPerSecondBf16, "F1")}");
        table.AddRow("achieved train / sample GFLOP/s", $"{F(r.TrainGflopPerSecond, "F1")} / {F(r.SampleGflopPerSecond, "F1")}");
        table.AddRow($"train model-FLOPs utilisation (of {r.Precision} GEMM peak)", $"{F(100 * r.TrainModelFlopsUtilisation, "F1")} %");
        table.AddRow("resident memory peak / final (MiB)", $"{F(r.PeakResidentMiB, "F0")} / {F(r.FinalResidentMiB, "F0")}");
        table.AddRow($"live tensors after warm-up / after {r.MeasuredSteps} more steps", $"{r.LiveTensorsAfterWarmup} / {r.LiveTensorsAfterSteps}");
        TableOutput.Write(output, table);
        if (r.Layers is { } layers) PrintLayers(output, layers, r.TrainBatch);
    }

    private static void PrintLayers(TextWriter output, IReadOnlyList<LayerTiming> layers, int batch)
    {
        static string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        double step = layers.Sum(l => l.TotalMs);
        var table = new Table().Border(TableBorder.Rounded).Title($"training step, batch {batch}: each layer alone")
            .AddColumn("layer").AddColumn("calls").AddColumn("forward ms").AddColumn("backward ms").AddColumn("share").AddColumn("GFLOP/s");
        foreach (var l in layers.OrderByDescending(l => l.TotalMs))
            table.AddRow(Markup.Escape(l.Layer), l.Count.ToString(CultureInfo.InvariantCulture), F(l.ForwardMs, "F1"), F(l.BackwardMs, "F1"),
                $"{F(100 * l.TotalMs / step, "F1")} %", l.Gflop > 0 && l.TotalMs > 0 ? F(l.Gflop / (l.TotalMs / 1000), "F0") : "");
        TableOutput.Write(output, table);
    }
}
