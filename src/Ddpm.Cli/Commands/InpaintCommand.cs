using System.CommandLine;
using Ddpm.Data;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm inpaint</c>: fill the unknown part of an image with RePaint.</summary>
internal static class InpaintCommand
{
    private static readonly Option<string?> ImagePath = new("--image") { Description = "Image to complete (converted to grayscale and resized to the model's size if needed)" };
    private static readonly Option<int?> FromTest = new("--from-test") { Description = "Use the K-th MNIST test digit instead of --image (default mask: the lower half is missing)" };
    private static readonly Option<string?> MaskPath = new("--mask") { Description = "Mask image: white = keep, black = fill" };
    private static readonly Option<string?> MaskRect = CommonOptions.Check(new Option<string?>("--mask-rect") { Description = "Rectangle x,y,w,h to fill (pixels of the model-sized image); everything else is kept" },
        text => text is null || TryParseRect(text, out _) ? null : $"--mask-rect must be four integers x,y,w,h, got '{text}'");
    private static readonly Option<string> Out = new("--out") { Description = "PNG to write: per row the input, the masked input and --n completions", DefaultValueFactory = _ => "inpaint.png" };
    private static readonly Option<string?> CheckpointPath = new("--checkpoint") { Description = "Run or checkpoint folder (default: the newest under runs/)" };
    private static readonly Option<int> Count = CommonOptions.Range(new Option<int>("--n") { Description = "Completions to draw", DefaultValueFactory = _ => 4 }, 1, 256);
    private static readonly Option<int> JumpLength = CommonOptions.Positive(new Option<int>("--jump-length") { Description = "RePaint jump length j (steps walked back up per resampling)", DefaultValueFactory = _ => RePaint.DefaultJumpLength });
    private static readonly Option<int> JumpCount = CommonOptions.Positive(new Option<int>("--resample") { Description = "RePaint resamplings r per jump point (1 = no resampling)", DefaultValueFactory = _ => RePaint.DefaultJumpCount });
    private static readonly Option<int> Steps = CommonOptions.Positive(new Option<int>("--steps") { Description = $"Respaced steps S of the reverse process, as RePaint's configurations (0 = {RePaint.DefaultSteps}, or T if smaller)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<int?> Digit = new("--digit") { Description = "Conditional checkpoints: complete as this class (with --guidance)" };
    private static readonly Option<double?> Guidance = CommonOptions.Guidance("Guidance scale w with --digit");
    private static readonly Option<string> DataDir = CommonOptions.Data();
    private static readonly Option<int> Scale = CommonOptions.Positive(new Option<int>("--scale") { Description = "Pixel upscaling of the PNG", DefaultValueFactory = _ => 4 });
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly Option<int> Threads = CommonOptions.Threads();

    public static Command Create()
    {
        var command = new Command("inpaint", "Fill in the missing part of a digit with RePaint (Lugmayr et al. 2022) from any checkpoint");
        foreach (var o in new Option[] { ImagePath, FromTest, MaskPath, MaskRect, Out, CheckpointPath, Count, Steps, JumpLength, JumpCount, Digit, Guidance, DataDir, Scale, Seed, Threads })
            command.Add(o);
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        CommonOptions.ApplyThreads(parse.GetValue(Threads));
        var output = parse.InvocationConfiguration.Output;
        var imagePath = parse.GetValue(ImagePath);
        var testIndex = parse.GetValue(FromTest);
        var maskPath = parse.GetValue(MaskPath);
        var rectText = parse.GetValue(MaskRect);
        if ((imagePath is null) == (testIndex is null)) throw new UsageException("give exactly one of --image and --from-test");
        if (maskPath is not null && rectText is not null) throw new UsageException("give at most one of --mask and --mask-rect");
        if (imagePath is not null && maskPath is null && rectText is null) throw new UsageException("--image needs --mask or --mask-rect");
        if (parse.GetValue(Guidance) is not null && parse.GetValue(Digit) is null) throw new UsageException("--guidance needs --digit");
        var outPath = parse.GetValue(Out)!;
        OutputPath.EnsureWritable(outPath);

        var dir = parse.GetValue(CheckpointPath) is { } given ? Checkpoint.Resolve(given) : Checkpoint.Newest("runs");
        var config = Checkpoint.ReadConfig(dir);
        RePaint repaint;
        try { repaint = RePaint.ForConfig(config.Diffusion, parse.GetValue(JumpLength), parse.GetValue(JumpCount), parse.GetValue(Steps)); }
        catch (DdpmException e) { throw new DdpmException($"{dir}: {e.Message}"); }
        using var model = Checkpoint.LoadModel(dir);
        model.Precision = PrecisionNames.Auto(); // the fast one on this CPU (weights are fp32 either way)
        int size = config.Model.ImageSize;

        using var scope = NewDisposeScope();
        Tensor image;
        string source;
        if (imagePath is not null)
        {
            (image, var notes) = InputImage.Load(imagePath, size, config.Model.ImageChannels);
            foreach (var note in notes) output.WriteLine($"Note: {imagePath}: {note}");
            source = imagePath;
        }
        else
        {
            using var test = ImageDataset.Load(parse.GetValue(DataDir)!, DatasetSplit.Test);
            int k = testIndex!.Value;
            if (k < 0 || k >= test.Count) throw new UsageException($"--from-test must be in 0..{test.Count - 1}, got {k}");
            if (test.Height != size || test.Channels != config.Model.ImageChannels)
                throw new DdpmException($"test images are {test.Channels}x{test.Height}x{test.Width} but the model expects {config.Model.ImageChannels}x{size}x{size}");
            image = test.Images.narrow(0, k, 1).clone();
            source = $"MNIST test digit {k} (label {test.Labels[k].item<long>()})";
        }
        Tensor mask;
        if (maskPath is not null) mask = InputImage.LoadMask(maskPath, size);
        else if (rectText is not null)
        {
            TryParseRect(rectText, out var r);
            mask = InputImage.RectangleMask(size, r[0], r[1], r[2], r[3]);
        }
        else mask = InputImage.RectangleMask(size, 0, size / 2, size, size - size / 2); // the lower half is missing
        double knownFraction = mask.mean().item<float>();

        int n = parse.GetValue(Count);
        var known = image.expand(n, -1, -1, -1).contiguous();
        using var guided = parse.GetValue(Digit) is int digit
            ? new GuidedModel(model, Generation.Cycling(ClassList.Check([digit], model.Config, "--digit"), n),
                parse.GetValue(Guidance) ?? Generation.DefaultGuidanceFor(Checkpoint.ReadProgress(dir).GlobalStep))
            : null;
        output.WriteLine($"Inpainting {source}: {100 * (1 - knownFraction):F0}% of the pixels to fill, {n} completion(s); RePaint S = {repaint.Timesteps.Count - 1} steps, j = {repaint.JumpLength}, r = {repaint.JumpCount}: {repaint.Steps} model calls per image");
        using var generator = new Generator((ulong)parse.GetValue(Seed));
        var started = DateTime.UtcNow;
        var epsilonModel = guided ?? (nn.Module<Tensor, Tensor, Tensor>)model;
        var result = Display.SamplingView.WithProgress("RePaint", repaint.Steps, output,
            progress => repaint.Inpaint(epsilonModel, known, mask, generator, progress));

        // Row: input, masked input (missing pixels mid-gray), completions.
        var masked = image * mask;
        ImageGrid.Save(cat([image, masked, result], 0), outPath, columns: n + 2, scale: parse.GetValue(Scale));
        output.WriteLine($"Wrote {outPath} (input, masked input, {n} completion(s); {(DateTime.UtcNow - started).TotalSeconds:F1} s)");
        return ExitCodes.Success;
    }

    internal static bool TryParseRect(string text, out int[] rect) => NoiseDemoCommand.TryParseSteps(text, out rect) && rect.Length == 4;
}
