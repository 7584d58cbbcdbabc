using Ddpm.Model;
using Ddpm.Sampling;
using Spectre.Console;
using static TorchSharp.torch;

namespace Ddpm.Cli.Display;

/// <summary>Draws N images from a model in batches, with a progress bar per batch on a terminal.</summary>
internal static class SamplingView
{
    public static GeneratedImages Generate(DiffusionModel model, GenerationRequest request, TextWriter output)
    {
        if (!TrainingView.IsLive(output)) return model.Generate(request);
        GeneratedImages? images = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<int, ProgressTask>();
                images = model.Generate(request, new SyncProgress<SamplingProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.FirstImage, out var task))
                        tasks[p.FirstImage] = task = ctx.AddTask($"images {p.FirstImage + 1}-{p.FirstImage + p.BatchImages} of {p.TotalImages}", maxValue: p.Steps);
                    task.Value = p.Step;
                }));
            });
        return images!;
    }

    /// <summary>Runs one long job with a single progress bar on a terminal (plain otherwise).</summary>
    public static Tensor WithProgress(string label, int steps, TextWriter output, Func<IProgress<int>?, Tensor> job)
    {
        if (!TrainingView.IsLive(output)) return job(null);
        Tensor? result = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: steps);
                result = job(new SyncProgress<int>(v => task.Value = v));
            });
        return result!;
    }
}
