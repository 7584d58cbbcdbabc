using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ddpm.Cli.Display;
using Ddpm.Data;
using Ddpm.Evaluation;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm eval</c>: sample quality in the feature space of a classifier of the dataset (FCD, precision/recall, class balance).</summary>
internal static class EvalCommand
{
    internal const string ClassifierDescription = "Evaluator weights (default: data/evaluator/NAME-cnn.bin for the data folder NAME; the one for data/mnist is committed)";

    private static readonly Option<string?> CheckpointPath = new("--checkpoint") { Description = "Run or checkpoint folder to sample from" };
    private static readonly Option<string?> Samples = new("--samples") { Description = "Evaluate existing samples instead: an .npz (arr_0, N×H×W×C uint8) or a PNG grid written by ddpm sample" };
    private static readonly Option<int> Count = CommonOptions.Range(new Option<int>("--n") { Description = "Samples to draw with --checkpoint (FCD depends on N)", DefaultValueFactory = _ => 1000 }, 5, 100_000);
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly CommonOptions.SamplerSet Sampler = new();
    private static readonly Option<int> BatchSize = CommonOptions.Positive(new Option<int>("--batch-size") { Description = "Images denoised at once", DefaultValueFactory = _ => 100 });
    private static readonly Option<string> DataDir = CommonOptions.Data("Labelled data whose test images are the reference (default: the checkpoint's training data; with --samples, data/mnist)");
    private static readonly Option<string?> Classifier = new("--classifier") { Description = ClassifierDescription };
    private static readonly Option<string?> Json = new("--json") { Description = "Also write the results as JSON to this file" };
    private static readonly Option<int> Threads = CommonOptions.Threads();
    private static readonly Option<string?> Guidance = CommonOptions.Check(new Option<string?>("--guidance") { Description = $"Conditional checkpoints: comma-separated guidance scales w, one row each (default: {Generation.ShortRunGuidance} for a checkpoint of fewer than {Generation.ShortRunSteps:N0} steps, else {Generation.DefaultGuidance})" },
        text => text is null || TryParseScales(text, out _) ? null : $"--guidance must be a comma-separated list of numbers >= 0, got '{text}'");
    private static readonly Option<string?> Digits = CommonOptions.Check(new Option<string?>("--digits") { Description = "Conditional checkpoints: classes to request, cycling (default: all)" },
        text => text is null || ClassList.TryParse(text, out _) ? null : $"--digits must be a range like 0-9 or a comma-separated list, got '{text}'");

    public static Command Create()
    {
        var command = new Command("eval", "Score samples against a labelled test set (MNIST by default): FCD, precision, recall, confidence, class balance, beside the real-data floor");
        foreach (var o in new Option[] { CheckpointPath, Samples, Count, Seed, BatchSize, DataDir, Classifier, Json, Threads, Guidance, Digits }.Concat(Sampler.All))
            command.Add(o);
        command.Add(TrainClassifierCommand.Create());
        command.Add(CreateReferences());
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        CommonOptions.ApplyThreads(parse.GetValue(Threads));
        var output = parse.InvocationConfiguration.Output;
        Sampler.Read(parse); // usage errors before anything loads
        var checkpoint = parse.GetValue(CheckpointPath);
        var samples = parse.GetValue(Samples);
        if ((checkpoint is null) == (samples is null)) throw new DdpmUsageException("give exactly one of --checkpoint and --samples");
        if (parse.GetValue(Json) is { } jsonPath) OutputPath.EnsureWritable(jsonPath);

        // Check every input before the slow parts (sampling, embedding the test set).
        using var model = checkpoint is null ? null : Sampler.LoadModel(parse, checkpoint);
        var dataDir = model is not null && parse.GetResult(DataDir) is not { Implicit: false } ? model.Info.TrainingData : parse.GetValue(DataDir)!;
        using var evaluator = QualityEvaluator.Open(dataDir, parse.GetValue(Classifier), model);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reports = new List<QualityReport>();
        if (samples is not null)
        {
            if (parse.GetValue(Guidance) is not null || parse.GetValue(Digits) is not null)
                throw new DdpmUsageException("--guidance and --digits apply to --checkpoint");
            using var images = evaluator.ReadSamples(samples);
            reports.Add(evaluator.Score(Path.GetFileName(samples), images));
        }
        else
        {
            var info = model!.Info;
            int n = parse.GetValue(Count);
            var run = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(info.CheckpointDirectory)));
            var request = new GenerationRequest { Count = n, Seed = parse.GetValue(Seed), Sampler = Sampler.Read(parse), BatchSize = parse.GetValue(BatchSize) };
            double?[] scales = [null];
            if (info.IsConditional)
            {
                int[] classes = Enumerable.Range(0, info.ClassCount).ToArray();
                if (parse.GetValue(Digits) is { } spec) ClassList.TryParse(spec, out classes);
                request = request with { Classes = ClassList.Check(classes, info, "--digits") };
                scales = [info.DefaultGuidance];
                if (parse.GetValue(Guidance) is { } text && TryParseScales(text, out var given)) scales = [.. given.Select(w => (double?)w)];
            }
            else if (parse.GetValue(Guidance) is not null || parse.GetValue(Digits) is not null)
                ClassList.RequireConditional(info, parse.GetValue(Guidance) is not null ? "--guidance" : "--digits");
            foreach (var w in scales)
            {
                // The same seed, so the same x_T, for every w.
                output.WriteLine($"Sampling {n} images from {info.CheckpointDirectory} ({model.DescribeSampler(request.Sampler, w)}, {model.Precision}{(w is null ? "" : $", guidance w = {w}")})...");
                using var images = SamplingView.Generate(model, request with { Guidance = w }, output);
                reports.Add(evaluator.Score(w is null ? $"{run} (seed {request.Seed})" : $"{run}, w = {w.Value.ToString(CultureInfo.InvariantCulture)}", images));
            }
        }
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        var floor = evaluator.Floor(reports[0].N);
        Print(output, [.. reports, floor]);
        if (reports.Any(r => r.AccuracyPerClass is not null)) PrintAccuracy(output, reports, evaluator.ClassCount);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FCD depends on N; compare at equal N. Ratio to the real-data floor: {string.Join(", ", reports.Select(r => (r.Fcd / Math.Max(floor.Fcd, 1e-12)).ToString("F2", CultureInfo.InvariantCulture) + "x"))}. Time: {sampleSeconds:F0} s to get and score samples, {clock.Elapsed.TotalSeconds - sampleSeconds:F0} s for the floor."));
        if (parse.GetValue(Json) is { } json)
        {
            object result = reports.Count == 1 ? new { samples = reports[0], reference = floor, sampleSeconds } : new { samples = reports, reference = floor, sampleSeconds };
            File.WriteAllText(json, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            output.WriteLine($"Wrote {json}");
        }
        return ExitCodes.Success;
    }

    private static Command CreateReferences()
    {
        var n = CommonOptions.Range(new Option<int>("--n") { Description = "Images per row", DefaultValueFactory = _ => 1000 }, 5, 60_000);
        var data = CommonOptions.Data("Labelled data: its test images are the reference, its training images the rows");
        var classifier = new Option<string?>("--classifier") { Description = ClassifierDescription };
        var command = new Command("references", "Score real images and degraded copies (blurred, shifted, noise): what the metrics mean at this N");
        command.Add(n);
        command.Add(data);
        command.Add(classifier);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var dataDir = parse.GetValue(data)!;
            using var evaluator = QualityEvaluator.Open(dataDir, parse.GetValue(classifier));
            Print(output, evaluator.ReferenceTable(parse.GetValue(n)));
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(TextWriter output, IReadOnlyList<QualityReport> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var h in new[] { "images", "N", "FCD ↓", "precision", "recall", "mean p(top)", "p > 0.9", "class entropy", "classified as 0, 1, ..." })
            table.AddColumn(h);
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Name), r.N.ToString(CultureInfo.InvariantCulture), F(r.Fcd, "F3"), F(r.Precision, "F3"), F(r.Recall, "F3"),
                F(r.MeanConfidence, "F3"), F(r.ConfidentFraction, "F3"), F(r.ClassEntropy, "F3"), string.Join(" ", r.ClassCounts));
        TableOutput.Write(output, table);
    }

    private static void PrintAccuracy(TextWriter output, IReadOnlyList<QualityReport> rows, int classes)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("samples").AddColumn("accuracy");
        for (int c = 0; c < classes; c++) table.AddColumn(c.ToString(CultureInfo.InvariantCulture));
        foreach (var r in rows.Where(r => r.AccuracyPerClass is not null))
            table.AddRow([Markup.Escape(r.Name), F(r.ConditionalAccuracy!.Value, "P1"), .. r.AccuracyPerClass!.Select(a => double.IsNaN(a) ? "-" : F(a, "F2"))]);
        output.WriteLine("Classifier accuracy on the requested class (how often a \"7\" is classified as 7; columns are labels):");
        TableOutput.Write(output, table);
    }

    internal static bool TryParseScales(string text, out double[] scales)
    {
        scales = [];
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out parsed[i]) || !(parsed[i] >= 0) || !double.IsFinite(parsed[i])) return false;
        scales = parsed;
        return true;
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary><c>ddpm eval train-classifier</c>: trains the evaluator CNN on a labelled dataset and reports its held-out accuracy.</summary>
internal static class TrainClassifierCommand
{
    private static readonly Option<string> DataDir = CommonOptions.Data("Labelled data: IDX files (their test split is held out) or class folders of images (10 % held out)");
    private static readonly Option<int?> Epochs = CommonOptions.Check(new Option<int?>("--epochs") { Description = $"Training epochs (default: {ClassifierTraining.DefaultEpochs}, or as many as give {ClassifierTraining.MinSteps:N0} batches of {ClassifierTraining.BatchSize} on a small dataset)" },
        e => e is < 1 ? $"--epochs must be > 0, got {e}" : null);
    private static readonly Option<string?> Out = new("--out") { Description = "Weights file to write, with a .json report beside it (default: data/evaluator/NAME-cnn.bin for the data folder NAME, where ddpm eval looks)" };
    private static readonly Option<int?> ImageSize = CommonOptions.ImageSize();
    private static readonly Option<int?> Channels = CommonOptions.Channels();
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly Option<int> Threads = CommonOptions.Threads();

    public static Command Create()
    {
        var command = new Command("train-classifier", "Train the classifier whose features ddpm eval uses, on any labelled dataset (the committed MNIST one was made with the defaults)");
        foreach (var o in new Option[] { DataDir, Epochs, Out, ImageSize, Channels, Seed, Threads })
            command.Add(o);
        command.SetAction(parse =>
        {
            CommonOptions.ApplyThreads(parse.GetValue(Threads));
            var output = parse.InvocationConfiguration.Output;
            var dataDir = parse.GetValue(DataDir)!;
            var outPath = parse.GetValue(Out) ?? FeatureClassifier.DefaultPath(dataDir);
            OutputPath.EnsureWritable(outPath);
            var (trainSet, testSet, classNames) = DataSources.LoadLabelledSplits(dataDir, parse.GetValue(ImageSize), parse.GetValue(Channels));
            using var train = trainSet;
            using var test = testSet;
            var report = ClassifierTraining.Train(train, test, outPath, parse.GetValue(Epochs), parse.GetValue(Seed),
                new SyncProgress<(int Epoch, int Step, int Steps, double Loss)>(p => { if (p.Step == p.Steps || p.Step % 200 == 1) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch} step {p.Step}/{p.Steps} loss {p.Loss:F4}")); }),
                classNames.Count > 0 ? classNames : null);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Test accuracy {report.TestAccuracy:P2} on {test.Count} held-out images ({report.Classes} classes, {report.DescribeInput()}) after {report.Epochs} epochs ({report.Seconds:F0} s); wrote {outPath} and {FeatureClassifier.ReportPath(outPath)}"));
            return ExitCodes.Success;
        });
        return command;
    }
}
