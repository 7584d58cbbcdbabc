using System.Globalization;
using Ddpm.Sampling;
using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>
/// Scores a model during training: samples N images with a fixed seed and evaluates them. The results go to
/// eval.csv in the run folder (one row per evaluation) and onto the run's plot.
/// </summary>
internal sealed class TrainingEvaluation(SampleEvaluator evaluator, int n, long seed = 0)
{
    public const string FileName = "eval.csv";
    public const string Header = "epoch,step,elapsed_s,n,fcd,precision,recall,mean_confidence,confident_fraction,class_entropy";

    public const int BatchSize = 100;

    public int N { get; } = n;

    /// <summary>Progress reports an evaluation makes: one per denoising step of each batch.</summary>
    public int ProgressSteps(ISampler sampler) => (N + BatchSize - 1) / BatchSize * sampler.Steps;

    /// <summary>Scores N images the model generates by default (<see cref="Generation.Default"/>: a conditional model draws its classes in
    /// turn with guidance, as <c>ddpm eval</c> does).</summary>
    public QualityReport Evaluate(Model.UNet model, ISampler sampler, string name, double guidance, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        using var g = Runtime.Devices.GeneratorFor((ulong)seed, get_default_device());
        var options = Generation.Default(model.Config, N, guidance) with { BatchSize = BatchSize };
        var images = Generation.Run(model, sampler, N, options, g, (_, _) => progress, cancellation);
        return evaluator.Evaluate(name, images, options.Labels);
    }

    public static void Append(string runDir, int epoch, long step, double elapsedSeconds, QualityReport r)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) File.WriteAllText(path, Header + Environment.NewLine);
        File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture,
            $"{epoch},{step},{elapsedSeconds:F1},{r.N},{r.Fcd:G6},{r.Precision:F4},{r.Recall:F4},{r.MeanConfidence:F4},{r.ConfidentFraction:F4},{r.ClassEntropy:F4}{Environment.NewLine}"));
    }

    /// <summary>(step, FCD) pairs of a run's eval.csv, at or before a step.</summary>
    public static List<(long Step, double Fcd)> Read(string runDir, long throughStep = long.MaxValue)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return [];
        return File.ReadLines(path).Skip(1).Select(l => l.Split(','))
            .Where(f => f.Length >= 5)
            .Select(f => (Step: long.Parse(f[1], CultureInfo.InvariantCulture), Fcd: double.Parse(f[4], CultureInfo.InvariantCulture)))
            .Where(p => p.Step <= throughStep).ToList();
    }
}
