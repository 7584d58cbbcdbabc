using System.CommandLine;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm export</c>: a checkpoint's weights as a safetensors file with its config in the metadata.</summary>
internal static class ExportCommand
{
    private static readonly Option<string?> CheckpointPath = new("--checkpoint") { Description = "Run or checkpoint folder (default: the newest under runs/)" };
    private static readonly Option<string> Out = new("--out") { Description = "File to write", DefaultValueFactory = _ => "model.safetensors" };
    private static readonly Option<string> Format = CommonOptions.OneOf("--format", "File format: safetensors (Hugging Face's; PyTorch reads it with safetensors.torch.load_file)", ["safetensors"], "safetensors");
    private static readonly Option<string?> Probe = new("--probe") { Description = "Also write fixed inputs and the network's outputs for them to this .npz (x, t, labels, output), to check a port of the network" };
    private static readonly Option<string> Weights = CommonOptions.OneOf("--weights", "Weights to export: ema (what sampling uses) or raw (the optimizer's last step)", ["ema", "raw"], "ema");

    public static Command Create()
    {
        var command = new Command("export", "Write a checkpoint's weights under PyTorch's parameter names, with the run's config as metadata (docs/library.md)");
        foreach (var o in new Option[] { CheckpointPath, Out, Format, Weights, Probe }) command.Add(o);
        command.SetAction(parse =>
        {
            var outPath = parse.GetValue(Out)!;
            using var model = DiffusionModel.Load(parse.GetValue(CheckpointPath) ?? Training.Checkpoint.Newest("runs"),
                new LoadOptions { UseEma = parse.GetValue(Weights) == "ema", Precision = "fp32" });
            var probe = parse.GetValue(Probe);
            if (probe is not null) Imaging.OutputPath.EnsureWritable(probe); // before the weights are written, not after
            model.ExportSafetensors(outPath);
            parse.InvocationConfiguration.Output.WriteLine(
                $"Wrote {outPath} ({parse.GetValue(Weights)} weights, {model.Info.ParameterCount:N0} parameters; {model.Info.Summary}, {model.Info.TrainedSteps:N0} steps)");
            if (probe is not null)
            {
                model.ExportProbe(probe);
                parse.InvocationConfiguration.Output.WriteLine($"Wrote {probe} (fixed inputs and the network's outputs for them)");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
