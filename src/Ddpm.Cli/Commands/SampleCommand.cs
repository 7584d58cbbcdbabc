using System.CommandLine;
using Ddpm.Imaging;
using Ddpm.Sampling;
using Ddpm.Training;
using Ddpm.Cli.Display;
using static TorchSharp.torch;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm sample</c>: Algorithm 2 from a checkpoint's EMA weights to a PNG grid (and optionally .npz).</summary>
internal static class SampleCommand
{
    private static readonly Option<int> Count = CommonOptions.Positive(new Option<int>("--n") { Description = "Number of images", DefaultValueFactory = _ => 64 });
    private static readonly Option<string> Out = new("--out") { Description = "PNG grid to write", DefaultValueFactory = _ => "grid.png" };
    private static readonly Option<string?> CheckpointPath = new("--checkpoint") { Description = "Run or checkpoint folder (default: the newest under runs/)" };
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly CommonOptions.SamplerSet Sampler = new();
    private static readonly Option<string?> Npz = new("--npz") { Description = "Also save the samples as a NumPy archive (uint8 arr_0, N×H×W×1)" };
    private static readonly Option<int> Columns = CommonOptions.Positive(new Option<int>("--columns") { Description = "Tiles per grid row (0 = square)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<int> Scale = CommonOptions.Positive(new Option<int>("--scale") { Description = "Pixel upscaling of the PNG", DefaultValueFactory = _ => 2 });
    private static readonly Option<int> BatchSize = CommonOptions.Positive(new Option<int>("--batch-size") { Description = "Images denoised at once", DefaultValueFactory = _ => 64 });
    private static readonly Option<int> Threads = CommonOptions.Threads();

    public static Command Create()
    {
        var command = new Command("sample", "Generate images with the reverse process (Algorithm 2) from a checkpoint");
        foreach (var o in new Option[] { Count, Out, CheckpointPath, Seed, Npz, Columns, Scale, BatchSize, Threads }.Concat(Sampler.All))
            command.Add(o);
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        CommonOptions.ApplyThreads(parse.GetValue(Threads));
        var output = parse.InvocationConfiguration.Output;
        var samplerOptions = Sampler.Read(parse);
        var outPath = parse.GetValue(Out)!;
        OutputPath.EnsureWritable(outPath);
        if (parse.GetValue(Npz) is { } npzPath) OutputPath.EnsureWritable(npzPath);
        var dir = parse.GetValue(CheckpointPath) is { } given ? Checkpoint.Resolve(given) : Checkpoint.Newest("runs");
        var config = Checkpoint.ReadConfig(dir);
        var sampler = Samplers.ForConfig(config.Diffusion, samplerOptions);
        using var model = Checkpoint.LoadModel(dir);
        int n = parse.GetValue(Count), batch = parse.GetValue(BatchSize);
        output.WriteLine($"Sampling {n} images from {dir} ({config.Model.Preset}, {config.Diffusion.Schedule}, T = {config.Diffusion.Timesteps}; {Sampler.Describe(parse)})");

        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)parse.GetValue(Seed));
        var started = DateTime.UtcNow;
        var images = SamplingView.Generate(model, sampler, config, n, batch, generator, output);
        ImageGrid.Save(images, outPath, parse.GetValue(Columns), scale: parse.GetValue(Scale));
        output.WriteLine($"Wrote {outPath} ({(DateTime.UtcNow - started).TotalSeconds:F1} s)");
        if (parse.GetValue(Npz) is { } npz)
        {
            NpzWriter.Save(images, npz);
            output.WriteLine($"Wrote {npz} (arr_0: {n}x{config.Model.ImageSize}x{config.Model.ImageSize}x{config.Model.ImageChannels} uint8)");
        }
        return ExitCodes.Success;
    }
}
