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
            throw new DdpmUsageException("give at most one of --digit, --class and --digits");
        if (parse.GetResult(GifEvery) is { Implicit: false } && gifPath is null) throw new DdpmUsageException("--gif-every needs --gif");
        if (parse.GetValue(TrajectoryT) is not null && stripPath is null) throw new DdpmUsageException("--trajectory-t needs --trajectory");

        using var model = Sampler.LoadModel(parse, parse.GetValue(CheckpointPath));
        var info = model.Info;
        int n = parse.GetValue(Count), columns = parse.GetValue(Columns), scale = parse.GetValue(Scale);
        var request = new GenerationRequest
        {
            Count = n, Seed = parse.GetValue(Seed), Sampler = Sampler.Read(parse), Guidance = parse.GetValue(Guidance), BatchSize = parse.GetValue(BatchSize),
        };
        string what = $"{n} images";
        double guidance = request.Guidance ?? info.DefaultGuidance;
        if (parse.GetValue(ClassName) is not null || parse.GetValue(Digit) is not null)
        {
            var option = parse.GetValue(ClassName) is null ? "--digit" : "--class";
            ClassList.RequireConditional(info, option);
            int label = parse.GetValue(ClassName) is { } given ? model.ClassIndex(given) : ClassList.Check([parse.GetValue(Digit)!.Value], info, option)[0];
            request = request with { Classes = [label] };
            what = $"{n} images of class {label}{(info.ClassNames is { } names && label < names.Count ? $" ({names[label]})" : "")}, guidance w = {guidance}";
        }
        else if (parse.GetValue(Digits) is { } spec)
        {
            ClassList.TryParse(spec, out var parsed);
            var classes = ClassList.Check(parsed, info, "--digits");
            request = request with { ClassRows = classes };
            what = $"{classes.Count} rows of {n} (classes {string.Join(",", classes)}), guidance w = {guidance}";
            if (columns == 0) columns = n;
        }
        else if (info.IsConditional) what = $"{n} images, classes 0-{info.ClassCount - 1} in turn, guidance w = {guidance}";
        else if (parse.GetValue(Guidance) is not null)
            throw new DdpmUsageException("--guidance applies to conditional checkpoints (trained with --conditional)");

        int T = info.Timesteps;
        if (gifPath is not null)
            request = request with { FramesEvery = parse.GetValue(GifEvery) is var k and > 0 ? k : Math.Max(1, (int)Math.Ceiling((model.SamplerStates(request.Sampler, request.Guidance).Count - 1) / 50.0)) };
        if (stripPath is not null)
        {
            int[] requested = [T, 3 * T / 4, T / 2, 3 * T / 10, T / 10, T / 20, T / 50, 0];
            if (parse.GetValue(TrajectoryT) is { } tText)
            {
                NoiseDemoCommand.TryParseSteps(tText, out requested);
                if (requested.FirstOrDefault(t => t < 0 || t > T, -1) is var bad and >= 0) throw new DdpmUsageException($"--trajectory-t value {bad} is outside 0..{T}");
            }
            request = request with { SnapshotsNear = requested };
        }

        output.WriteLine($"Sampling {what} from {info.CheckpointDirectory} ({info.Summary}; {model.DescribeSampler(request.Sampler, request.Guidance)}, {model.Precision}, {model.DeviceName})");
        var started = DateTime.UtcNow;
        using var images = SamplingView.Generate(model, request, output);
        images.SavePng(outPath, columns, scale, parse.GetValue(Title));
        output.WriteLine($"Wrote {outPath} ({(DateTime.UtcNow - started).TotalSeconds:F1} s)");
        if (npzPath is not null)
        {
            images.SaveNpz(npzPath);
            output.WriteLine($"Wrote {npzPath} (arr_0: {images.Count}x{info.ImageSize}x{info.ImageSize}x{info.Channels} uint8)");
        }
        if (gifPath is not null)
        {
            images.SaveGif(gifPath, columns, scale);
            output.WriteLine($"Wrote {gifPath} ({images.Frames.Count} frames, t = {images.Frames[0]} to 0)");
        }
        if (stripPath is not null)
        {
            images.SaveSnapshots(stripPath, TrajectoryRows, scale);
            output.WriteLine($"Wrote {stripPath} ({Math.Min(images.Count, TrajectoryRows)} image(s) x t = {string.Join(",", images.Snapshots)})");
        }
        return ExitCodes.Success;
    }
}
