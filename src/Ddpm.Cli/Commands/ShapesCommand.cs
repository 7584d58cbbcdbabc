using System.CommandLine;
using Ddpm.Data;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm shapes</c>: writes the generated colour dataset (class folders of PNGs) for the colour example.</summary>
internal static class ShapesCommand
{
    private static readonly Option<string> Out = new("--out") { Description = "Folder to write (one subfolder per class)", DefaultValueFactory = _ => "data/shapes" };
    private static readonly Option<int> Count = CommonOptions.Range(new Option<int>("--n") { Description = "Images in all, shared by the classes", DefaultValueFactory = _ => 3000 }, 3, 1_000_000);
    private static readonly Option<int> Size = CommonOptions.Range(new Option<int>("--size") { Description = "Image side in pixels", DefaultValueFactory = _ => 16 }, 8, 512);
    private static readonly Option<long> Seed = CommonOptions.Seed();

    public static Command Create()
    {
        var command = new Command("shapes", $"Make a small colour dataset to train on without downloading anything: {string.Join(", ", ShapesDataset.Classes)} in random colours, sizes and places, one class folder each");
        foreach (var o in new Option[] { Out, Count, Size, Seed })
            command.Add(o);
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(Out)!;
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new DdpmException($"{dir}: folder exists and is not empty; choose another --out or remove it");
            int written = ShapesDataset.Write(dir, parse.GetValue(Count), parse.GetValue(Size), (int)parse.GetValue(Seed));
            parse.InvocationConfiguration.Output.WriteLine($"Wrote {written} {parse.GetValue(Size)}x{parse.GetValue(Size)} PNGs to {dir} ({string.Join(", ", ShapesDataset.Classes)}); train with: ddpm train --data {dir}");
            return ExitCodes.Success;
        });
        return command;
    }
}
