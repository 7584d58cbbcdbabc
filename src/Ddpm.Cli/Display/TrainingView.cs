using System.Globalization;
using Ddpm.Evaluation;
using Ddpm.Training;
using Spectre.Console;

namespace Ddpm.Cli.Display;

/// <summary>Live progress for <c>ddpm train</c>: a Spectre.Console bar on a terminal, plain lines otherwise (CI, logs).</summary>
internal static class TrainingView
{
    public static TrainingResult Run(TrainingRun run, TrainingSchedule schedule, CancellationToken stop, TextWriter output)
    {
        if (!IsLive(output)) return run.Train(schedule, new PlainObserver(output, run.StepsPerEpoch), stop);

        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                long total = (long)schedule.Epochs * run.StepsPerEpoch;
                var task = ctx.AddTask("starting", maxValue: Math.Max(1, total));
                task.Value = run.Progress.GlobalStep;
                result = run.Train(schedule, new LiveObserver(ctx, task), stop);
            });
        return result!;
    }

    /// <summary>Live progress only on the real console of an interactive terminal.</summary>
    internal static bool IsLive(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    internal static string Describe(TrainingStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {s.Epoch + (s.StepInEpoch > 0 ? 1 : 0)}/{s.Epochs} step {s.StepInEpoch}/{s.StepsPerEpoch} loss {s.Loss:F4} {s.ImagesPerSecond:F0} img/s");

    private sealed class LiveObserver(ProgressContext ctx, ProgressTask task) : ITrainingObserver
    {
        private ProgressTask? _preview;

        public void OnStep(TrainingStatus s)
        {
            task.Description = Markup.Escape(Describe(s));
            task.Value = s.GlobalStep;
        }

        public void OnCheckpoint(string path, TrainingStatus status) =>
            AnsiConsole.MarkupLine($"[grey]checkpoint[/] {Markup.Escape(path)} [grey](epoch {status.Epoch}, step {status.GlobalStep}, {status.Elapsed:hh\\:mm\\:ss})[/]");

        public void OnPreviewStarted(int steps) => _preview = ctx.AddTask("preview: sampling", maxValue: steps);

        public void OnPreviewProgress(int step)
        {
            if (_preview is not null) _preview.Value = step;
        }

        public void OnPreview(string path)
        {
            _preview?.StopTask();
            _preview = null;
            AnsiConsole.MarkupLine($"[grey]preview[/] {Markup.Escape(path)}");
        }

        public void OnEvaluationStarted(int steps) => _preview = ctx.AddTask("evaluation: sampling", maxValue: steps);

        public void OnEvaluationProgress(int step)
        {
            if (_preview is not null) _preview.Value = step;
        }

        public void OnEvaluation(QualityReport r)
        {
            _preview?.StopTask();
            _preview = null;
            AnsiConsole.MarkupLine($"[grey]eval[/] {Markup.Escape(Summary(r))}");
        }
    }

    internal static string Summary(QualityReport r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Name}: FCD {r.Fcd:F3} (N = {r.N}), precision {r.Precision:F3}, recall {r.Recall:F3}, p>0.9 {r.ConfidentFraction:F3}, class entropy {r.ClassEntropy:F3}");

    private sealed class PlainObserver(TextWriter output, int stepsPerEpoch) : ITrainingObserver
    {
        private readonly int _every = Math.Max(1, stepsPerEpoch / 4);

        public void OnStep(TrainingStatus s)
        {
            if (s.StepInEpoch % _every == 0 || s.StepInEpoch == s.StepsPerEpoch) output.WriteLine(Describe(s));
        }

        public void OnCheckpoint(string path, TrainingStatus s) =>
            output.WriteLine($"checkpoint {path} (epoch {s.Epoch}, step {s.GlobalStep}, {s.Elapsed:hh\\:mm\\:ss})");

        public void OnPreview(string path) => output.WriteLine($"preview {path}");

        public void OnEvaluation(QualityReport r) => output.WriteLine($"eval {Summary(r)}");
    }
}
