using Ddpm.Model;
using Ddpm.Sampling;
using Spectre.Console;
using static TorchSharp.torch;

namespace Ddpm.Cli.Display;

/// <summary>Draws N images from a model in batches, with a progress bar per batch on a terminal.</summary>
internal static class SamplingView
{
    public static Tensor Generate(UNet model, ISampler sampler, int n, GenerationOptions options, Generator generator, TextWriter output)
    {
        if (!TrainingView.IsLive(output)) return Generation.Run(model, sampler, n, options, generator);
        Tensor? images = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => images = Generation.Run(model, sampler, n, options, generator, (first, count) =>
            {
                var task = ctx.AddTask($"images {first + 1}-{first + count} of {n}", maxValue: sampler.Steps);
                return new SyncProgress<int>(v => task.Value = v);
            }));
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
