using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ddpm.Cli.Display;

/// <summary>Writes a Spectre.Console renderable to any writer; logs and files get wide lines instead of wrapped cells.</summary>
internal static class TableOutput
{
    public static void Write(TextWriter output, IRenderable renderable)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        if (!TrainingView.IsLive(output)) console.Profile.Width = 200;
        console.Write(renderable);
    }
}
