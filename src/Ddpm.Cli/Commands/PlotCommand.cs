using System.CommandLine;
using Ddpm.Evaluation;
using Ddpm.Imaging;
using Ddpm.Training;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm plot</c>: (re)draws a run's training.png from its loss.csv and eval.csv.</summary>
internal static class PlotCommand
{
    private static readonly Argument<string> Run = new("run") { Description = "Run folder" };
    private static readonly Option<string?> Out = new("--out") { Description = "PNG to write (default: <run>/training.png)" };

    public static Command Create()
    {
        var command = new Command("plot", "Draw a run's loss curve (and FCD, where measured) as a PNG; training writes it at every epoch end too");
        command.Add(Run);
        command.Add(Out);
        command.SetAction(parse =>
        {
            var run = parse.GetValue(Run)!;
            var loss = LossLog.Read(run);
            if (loss.Count == 0) throw new DdpmException($"{run}: no {LossLog.FileName} with any steps");
            var outPath = parse.GetValue(Out) ?? Path.Combine(run, Trainer.PlotFile);
            OutputPath.EnsureWritable(outPath);
            TrainingPlot.Save(outPath, loss, TrainingEvaluation.Read(run));
            parse.InvocationConfiguration.Output.WriteLine($"Wrote {outPath} ({loss.Count} steps)");
            return ExitCodes.Success;
        });
        return command;
    }
}
