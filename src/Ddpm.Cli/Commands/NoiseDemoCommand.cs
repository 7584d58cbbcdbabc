using System.CommandLine;
using Ddpm.Data;
using Ddpm.Diffusion;
using Ddpm.Imaging;
using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm noise-demo</c>: the forward process q(x_t|x_0) on a few digits, as a PNG.</summary>
internal static class NoiseDemoCommand
{
    private static readonly Option<string> Steps = CommonOptions.Check(
        new Option<string>("--t") { Description = "Comma-separated steps t to show (0 = clean image)", DefaultValueFactory = _ => "0,20,50,100,300" },
        text => TryParseSteps(text, out _) ? null : $"--t must be a comma-separated list of integers, got '{text}'");
    private static readonly Option<string> Schedule = CommonOptions.Schedule(allowAll: true);
    private static readonly Option<int> Timesteps = CommonOptions.Timesteps();
    private static readonly Option<string> Noise = CommonOptions.Noise(allowAll: true);
    private static readonly Option<string> DataDir = CommonOptions.Data();
    private static readonly Option<int> Rows = CommonOptions.Positive(new Option<int>("--rows") { Description = "Number of digits (rows per schedule)", DefaultValueFactory = _ => 4 });
    private static readonly Option<string> Out = new("--out") { Description = "PNG to write", DefaultValueFactory = _ => "noise-demo.png" };
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly Option<int> Scale = CommonOptions.Positive(new Option<int>("--scale") { Description = "Pixel upscaling of the PNG", DefaultValueFactory = _ => 2 });
    private static readonly Option<int?> ImageSize = CommonOptions.ImageSize();
    private static readonly Option<int?> Channels = CommonOptions.Channels();

    public static Command Create()
    {
        var command = new Command("noise-demo", "Show the forward process: rows are digits, columns are x_t at the given t; --schedule all and --noise all stack one block per schedule and noise type");
        foreach (var o in new Option[] { Steps, Schedule, Noise, Timesteps, DataDir, Rows, Out, Seed, Scale, ImageSize, Channels })
            command.Add(o);
        command.SetAction(Execute);
        return command;
    }

    internal static bool TryParseSteps(string? text, out int[] steps)
    {
        steps = [];
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out parsed[i])) return false;
        steps = parsed;
        return true;
    }

    private static int Execute(ParseResult parse)
    {
        CommonOptions.ApplyThreads(0);
        var output = parse.InvocationConfiguration.Output;
        TryParseSteps(parse.GetValue(Steps), out var ts);
        int T = parse.GetValue(Timesteps);
        if (ts.Any(t => t < 0 || t > T)) throw new DdpmUsageException($"--t value {ts.First(t => t < 0 || t > T)} is outside 0..{T}");
        var name = parse.GetValue(Schedule)!;
        var noise = parse.GetValue(Noise)!;
        var schedules = name == "all" ? NoiseSchedule.Names : [name];
        var noises = noise == "all" ? NoiseProcesses.Names : [noise];
        if (noises.All(n => !NoiseProcesses.UsesBetaSchedule(n)) && parse.GetResult(Schedule) is { Implicit: false })
            throw new DdpmUsageException($"--schedule applies to gaussian and gamma noise; {noise} has its own severity schedule");
        // One block per schedule for the noises that use β; blur and mask once each.
        var configs = noises.SelectMany(n => NoiseProcesses.UsesBetaSchedule(n)
            ? schedules.Select(s => new Training.DiffusionConfig { Noise = n, Schedule = s, Timesteps = T })
            : [new Training.DiffusionConfig { Noise = n, Timesteps = T }]).ToList();
        var outPath = parse.GetValue(Out)!;
        OutputPath.EnsureWritable(outPath);

        using var data = DataSources.Load(parse.GetValue(DataDir)!, DatasetSplit.Train, parse.GetValue(Rows), parse.GetValue(ImageSize), parse.GetValue(Channels)).Data;
        using var scope = NewDisposeScope();
        var processes = configs.Select(NoiseProcesses.Create).ToList();
        var tiles = NoiseDemo.Build(data.Images, processes, ts, parse.GetValue(Seed));
        foreach (var p in processes) (p as IDisposable)?.Dispose();
        LabelledGrid.Save(tiles, outPath, ts.Length, ts.Select(t => $"t={t}").ToArray(),
            configs.Select(c => (NoiseDemo.Label(c), data.Count)).ToArray(), parse.GetValue(Scale));
        output.WriteLine($"Wrote {outPath}: {data.Count} image(s) x t = {string.Join(",", ts)}; blocks (top to bottom): {string.Join("; ", configs.Select(c => c.Describe()))}");
        return ExitCodes.Success;
    }
}
