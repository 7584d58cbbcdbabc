using System.CommandLine;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm import</c>: a runnable checkpoint from a file that <c>ddpm export</c> wrote.</summary>
internal static class ImportCommand
{
    private static readonly Argument<string> File = new("file") { Description = "A .safetensors file written by ddpm export" };
    private static readonly Option<string> Out = new("--out") { Description = "Run folder to create (sample, inpaint and eval take it as --checkpoint)", Required = true };

    public static Command Create()
    {
        var command = new Command("import", "Make a checkpoint from exported weights: it samples like the original; training cannot resume from it");
        command.Add(File);
        command.Add(Out);
        command.SetAction(parse =>
        {
            var dir = DiffusionModel.ImportSafetensors(parse.GetValue(File)!, parse.GetValue(Out)!);
            parse.InvocationConfiguration.Output.WriteLine($"Wrote {dir}");
            return ExitCodes.Success;
        });
        return command;
    }
}
