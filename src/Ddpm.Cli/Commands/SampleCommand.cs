using System.CommandLine;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Training;
using Ddpm.Cli.Display;
using static TorchSharp.torch;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm sample</c>: Algorithm 2 from a checkpoint's EMA weights to a PNG grid (and optionally .npz, a GIF and a strip of x_t).</summary>
internal static class SampleCommand
{
    public const int TrajectoryRows = 8;

    private static readonly Option<int> Count = CommonOptions.Positive(new Option<int>("--n") { Description = "Number of images (with --digits: per digit)", DefaultValueFactory = _ => 64 });
    private static readonly Option<string> Out = new("--out") { Description = "PNG grid to write", DefaultValueFactory = _ => "grid.png" };
    private static readonly Option<string?> CheckpointPath = new("--checkpoint") { Description = "Run or checkpoint folder (default: the newest under runs/)" };
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly CommonOptions.SamplerSet Sampler = new();
    private static readonly Option<string?> Npz = new("--npz") { Description = "Also save the samples as a NumPy archive (uint8 arr_0, N×H×W×1)" };
    private static readonly Option<int> Columns = CommonOptions.Positive(new Option<int>("--columns") { Description = "Tiles per grid row (0 = square)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<int> Scale = CommonOptions.Positive(new Option<int>("--scale") { Description = "Pixel upscaling of the PNG", DefaultValueFactory = _ => 2 });
    private static readonly Option<int> BatchSize = CommonOptions.Positive(new Option<int>("--batch-size") { Description = "Images denoised at once", DefaultValueFactory = _ => 64 });
    private static readonly Option<string?> Title = CommonOptions.Check(new Option<string?>("--title") { Description = "A title line over the grid, so that the figure says what it shows (digits, lower-case letters but j and q, space and - . , : ( ) = +)" },
        text => text is not null && LabelledGrid.FirstUnsupported(text) is char c ? $"--title: the figure font has no '{c}' (use digits, lower-case letters but j and q, space and - . , : ( ) = +)" : null);
    private static readonly Option<int> Threads = CommonOptions.Threads();
    private static readonly Option<int?> Digit = new("--digit") { Description = "Conditional checkpoints: generate this class (label number) only" };
    private static readonly Option<string?> ClassName = new("--class") { Description = "Conditional checkpoints: generate this class only, by name (a class folder's name, a Fashion-MNIST class) or number" };
    private static readonly Option<string?> Digits = CommonOptions.Check(new Option<string?>("--digits") { Description = "Conditional checkpoints: one grid row per class, --n images each (e.g. 0-9 or 1,4,7)" },
        text => text is null || ClassList.TryParse(text, out _) ? null : $"--digits must be a range like 0-9 or a comma-separated list, got '{text}'");
    private static readonly Option<double?> Guidance = CommonOptions.Guidance("Conditional checkpoints: classifier-free guidance scale w, ε̃ = (1 + w) ε(x,t,c) − w ε(x,t,∅); without --digit or --digits the classes are drawn in turn");
    private static readonly Option<string?> Gif = new("--gif") { Description = "Also write an animated GIF of the reverse process (the grid at every --gif-every steps)" };
    private static readonly Option<int> GifEvery = CommonOptions.Positive(new Option<int>("--gif-every") { Description = "Sampler steps between GIF frames (0 = about 50 frames in all)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<string?> Trajectory = new("--trajectory") { Description = $"Also write a strip of x_t at --trajectory-t for the first {TrajectoryRows} images (the noise-demo figure in reverse)" };
    private static readonly Option<string?> TrajectoryT = CommonOptions.Check(new Option<string?>("--trajectory-t") { Description = "Comma-separated t for --trajectory (default: T, 3T/4, T/2, 3T/10, T/10, T/20, T/50, 0; DDIM uses its nearest steps)" },
        text => text is null || NoiseDemoCommand.TryParseSteps(text, out _) ? null : $"--trajectory-t must be a comma-separated list of integers, got '{text}'");

    public static Command Create()
    {
        var command = new Command("sample", "Generate images with the reverse process (Algorithm 2) from a checkpoint");
        foreach (var o in new Option[] { Count, Out, CheckpointPath, Seed, Npz, Columns, Scale, BatchSize, Title, Threads, Digit, ClassName, Digits, Guidance, Gif, GifEvery, Trajectory, TrajectoryT }.Concat(Sampler.All))
            command.Add(o);
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        CommonOptions.ApplyThreads(parse.GetValue(Threads));
        var output = parse.InvocationConfiguration.Output;
        Sampler.Read(parse); // usage errors before anything loads
        var outPath = parse.GetValue(Out)!;
        var npzPath = parse.GetValue(Npz);
        var gifPath = parse.GetValue(Gif);
        var stripPath = parse.GetValue(Trajectory);
        foreach (var path in new[] { outPath, npzPath, gifPath, stripPath }.OfType<string>()) OutputPath.EnsureWritable(path);
        if (new object?[] { parse.GetValue(Digit), parse.GetValue(ClassName), parse.GetValue(Digits) }.Count(v => v is not null) > 1)
            throw new UsageException("give at most one of --digit, --class and --digits");
        if (parse.GetResult(GifEvery) is { Implicit: false } && gifPath is null) throw new UsageException("--gif-every needs --gif");
        if (parse.GetValue(TrajectoryT) is not null && stripPath is null) throw new UsageException("--trajectory-t needs --trajectory");

        var dir = parse.GetValue(CheckpointPath) is { } given ? Checkpoint.Resolve(given) : Checkpoint.Newest("runs");
        var config = Checkpoint.ReadConfig(dir);
        var sampler = Sampler.Create(parse, dir, config);
        using var model = Sampler.LoadModel(parse, dir);

        int n = parse.GetValue(Count), columns = parse.GetValue(Columns);
        double guidance = parse.GetValue(Guidance) ?? Generation.DefaultGuidanceFor(Checkpoint.ReadProgress(dir).GlobalStep);
        using var scope = NewDisposeScope();
        Tensor? labels = null;
        string what = $"{n} images";
        int? single = parse.GetValue(Digit);
        if (parse.GetValue(ClassName) is { } name)
        {
            ClassList.Check([], model.Config, "--class"); // throws for an unconditional checkpoint
            single = config.Data.ClassIndex(name, model.Config.NumClasses);
        }
        if (single is int label)
        {
            var classes = ClassList.Check([label], model.Config, parse.GetValue(ClassName) is null ? "--digit" : "--class");
            labels = Generation.Cycling(classes, n);
            what = $"{n} images of class {label}{(config.Data.ClassNames is { } names && label < names.Length ? $" ({names[label]})" : "")}, guidance w = {guidance}";
        }
        else if (parse.GetValue(Digits) is { } spec)
        {
            ClassList.TryParse(spec, out var parsed);
            var classes = ClassList.Check(parsed, model.Config, "--digits");
            labels = Generation.RowsOf(classes, n);
            what = $"{classes.Count} rows of {n} (classes {string.Join(",", classes)}), guidance w = {guidance}";
            n *= classes.Count;
            if (columns == 0) columns = parse.GetValue(Count);
        }
        else if (model.Config.IsConditional)
        {
            labels = Generation.Default(model.Config, n, guidance).Labels;
            what = $"{n} images, classes 0-{model.Config.NumClasses - 1} in turn, guidance w = {guidance}";
        }
        else if (parse.GetValue(Guidance) is not null)
            throw new UsageException("--guidance applies to conditional checkpoints (trained with --conditional)");

        int T = config.Diffusion.Timesteps;
        int[] gifTimes = gifPath is null ? []
            : TrajectoryRecorder.EveryKSteps(sampler, parse.GetValue(GifEvery) is var k and > 0 ? k : Math.Max(1, (int)Math.Ceiling(sampler.Steps / 50.0)));
        int[] stripTimes = [];
        if (stripPath is not null)
        {
            int[] requested = [T, 3 * T / 4, T / 2, 3 * T / 10, T / 10, T / 20, T / 50, 0];
            if (parse.GetValue(TrajectoryT) is { } tText)
            {
                NoiseDemoCommand.TryParseSteps(tText, out requested);
                if (requested.FirstOrDefault(t => t < 0 || t > T, -1) is var bad and >= 0) throw new UsageException($"--trajectory-t value {bad} is outside 0..{T}");
            }
            stripTimes = TrajectoryRecorder.NearestStates(sampler, requested);
        }
        using var recorder = gifTimes.Length + stripTimes.Length > 0 ? new TrajectoryRecorder(gifTimes.Concat(stripTimes)) : null;

        output.WriteLine($"Sampling {what} from {dir} ({config.Model.Preset}, {config.Diffusion.Describe()}, T = {T}; {Samplers.Describe(sampler)}, {model.Precision.Name()})");
        using var generator = new Generator((ulong)parse.GetValue(Seed));
        var started = DateTime.UtcNow;
        var options = new GenerationOptions { BatchSize = parse.GetValue(BatchSize), Labels = labels, Guidance = guidance, Recorder = recorder };
        var images = SamplingView.Generate(model, sampler, n, options, generator, output);
        if (parse.GetValue(Title) is { } title) LabelledGrid.SaveTitled(images, outPath, title, columns, parse.GetValue(Scale));
        else ImageGrid.Save(images, outPath, columns, scale: parse.GetValue(Scale));
        output.WriteLine($"Wrote {outPath} ({(DateTime.UtcNow - started).TotalSeconds:F1} s)");
        if (npzPath is not null)
        {
            NpzWriter.Save(images, npzPath);
            output.WriteLine($"Wrote {npzPath} (arr_0: {n}x{config.Model.ImageSize}x{config.Model.ImageSize}x{config.Model.ImageChannels} uint8)");
        }
        if (gifPath is not null)
        {
            AnimatedGif.Save(gifTimes.Select(recorder!.Frame).ToList(), gifPath, columns, parse.GetValue(Scale));
            output.WriteLine($"Wrote {gifPath} ({gifTimes.Length} frames, t = {gifTimes[0]} to 0)");
        }
        if (stripPath is not null)
        {
            int rows = Math.Min(n, TrajectoryRows);
            // One row per image, one column per t.
            var tiles = stack(stripTimes.Select(t => recorder!.Frame(t).narrow(0, 0, rows)).ToArray(), 1).flatten(0, 1);
            ImageGrid.Save(tiles, stripPath, columns: stripTimes.Length, scale: parse.GetValue(Scale));
            output.WriteLine($"Wrote {stripPath} ({rows} image(s) x t = {string.Join(",", stripTimes)})");
        }
        return ExitCodes.Success;
    }
}
