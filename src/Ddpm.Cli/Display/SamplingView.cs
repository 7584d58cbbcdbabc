using Ddpm.Training;
using Ddpm.Sampling;
using Spectre.Console;
using static TorchSharp.torch;

namespace Ddpm.Cli.Display;

/// <summary>Draws N images from a model in batches, with a progress bar per batch on a terminal.</summary>
internal static class SamplingView
{
    public static Tensor Generate(nn.Module<Tensor, Tensor, Tensor> model, ISampler sampler, RunConfig config, int n, int batch,
        Generator generator, TextWriter output)
    {
        var chunks = new List<Tensor>();
        long[] Shape(int count) => [count, config.Model.ImageChannels, config.Model.ImageSize, config.Model.ImageSize];
        if (TrainingView.IsLive(output))
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    for (int done = 0; done < n; done += batch)
                    {
                        int count = Math.Min(batch, n - done);
                        var task = ctx.AddTask($"images {done + 1}-{done + count} of {n}", maxValue: sampler.Steps);
                        chunks.Add(sampler.Sample(model, Shape(count), generator, new SyncProgress<int>(v => task.Value = v)));
                    }
                });
        else
            for (int done = 0; done < n; done += batch)
                chunks.Add(sampler.Sample(model, Shape(Math.Min(batch, n - done)), generator));
        return cat(chunks, 0);
    }
}
