using System.CommandLine;
using Ddpm.Cli.Commands;

namespace Ddpm.Cli;

/// <summary>Builds the command tree and turns every failure into one line on stderr plus an exit code.</summary>
public static class DdpmCli
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Train denoising diffusion probabilistic models (Ho et al. 2020) on small images (MNIST, Fashion-MNIST, your own folders, grayscale or colour) and sample from them.");
        root.Add(TrainCommand.Create());
        root.Add(SampleCommand.Create());
        root.Add(InpaintCommand.Create());
        root.Add(NoiseDemoCommand.Create());
        root.Add(EvalCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(PlotCommand.Create());
        root.Add(ShapesCommand.Create());
        root.Add(ExportCommand.Create());
        root.Add(ImportCommand.Create());
        return root;
    }

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // An unknown token explains more than the "required command" error it causes.
            var first = parse.Errors.OrderBy(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0 : 1).First();
            error.WriteLine($"ddpm: {OneLine(first.Message)} (see ddpm --help)");
            return ExitCodes.Usage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // train handles Ctrl+C itself: save, then exit
            });
        }
        catch (DdpmUsageException e)
        {
            error.WriteLine($"ddpm: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (DdpmException e)
        {
            error.WriteLine($"ddpm: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"ddpm: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // Not a user error: still one line, with enough to report it.
            error.WriteLine($"ddpm: internal error: {e.GetType().Name}: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
    }

    internal static string OneLine(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message.Trim(), @"\s*\r?\n\s*", " ");
}
