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
    private static readonly Option<string> Device = CommonOptions.Device();

    public static Command Create()
    {
        var command = new Command("inpaint", "Fill in the missing part of a digit with RePaint (Lugmayr et al. 2022) from any checkpoint");
        foreach (var o in new Option[] { ImagePath, FromTest, MaskPath, MaskRect, Out, CheckpointPath, Count, Steps, JumpLength, JumpCount, Digit, Guidance, DataDir, Scale, Seed, Threads, Device })
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
        if ((imagePath is null) == (testIndex is null)) throw new DdpmUsageException("give exactly one of --image and --from-test");
        if (maskPath is not null && rectText is not null) throw new DdpmUsageException("give at most one of --mask and --mask-rect");
        if (imagePath is not null && maskPath is null && rectText is null) throw new DdpmUsageException("--image needs --mask or --mask-rect");
        if (parse.GetValue(Guidance) is not null && parse.GetValue(Digit) is null) throw new DdpmUsageException("--guidance needs --digit");
        var outPath = parse.GetValue(Out)!;
        OutputPath.EnsureWritable(outPath);

        using var model = DiffusionModel.Load(parse.GetValue(CheckpointPath) ?? Checkpoint.Newest("runs"), new LoadOptions { Device = parse.GetValue(Device)! });
        var info = model.Info;
        int size = info.ImageSize, n = parse.GetValue(Count);
        using var scope = NewDisposeScope();
        Tensor image;
        string source;
        if (imagePath is not null)
        {
            image = Images.LoadImage(imagePath, info, note => output.WriteLine($"Note: {imagePath}: {note}"));
            source = imagePath;
        }
        else
        {
            int k = testIndex!.Value;
            (image, int label) = Images.TestImage(parse.GetValue(DataDir)!, k, info);
            source = $"MNIST test digit {k} (label {label})";
        }
        Tensor mask;
        if (maskPath is not null) mask = Images.LoadMask(maskPath, size);
        else if (rectText is not null)
        {
            TryParseRect(rectText, out var r);
            mask = Images.RectangleMask(size, r[0], r[1], r[2], r[3]);
        }
        else mask = Images.RectangleMask(size, 0, size / 2, size, size - size / 2); // the lower half is missing
        double knownFraction = mask.mean().item<float>();

        int? digit = parse.GetValue(Digit) is int d ? ClassList.Check([d], info, "--digit")[0] : null;
        var request = new InpaintRequest
        {
            Image = image, Mask = mask, Count = n, Steps = parse.GetValue(Steps), JumpLength = parse.GetValue(JumpLength), Resamplings = parse.GetValue(JumpCount),
            Class = digit, Guidance = parse.GetValue(Guidance), Seed = parse.GetValue(Seed),
        };
        string method = model.DescribeInpainting(request);
        output.WriteLine($"Inpainting {source}: {100 * (1 - knownFraction):F0}% of the pixels to fill, {n} completion(s); {method}");
        var started = DateTime.UtcNow;
        GeneratedImages? completions = null;
        Display.SamplingView.WithProgress("RePaint", model.InpaintModelCalls(request), output, progress => (completions = model.Inpaint(request, progress)).Images);
        using var result = completions!;

        // Row: input, masked input (missing pixels mid-gray), completions.
        Images.SavePng(cat([image, image * mask, result.Images], 0), outPath, columns: n + 2, scale: parse.GetValue(Scale));
        output.WriteLine($"Wrote {outPath} (input, masked input, {n} completion(s); {(DateTime.UtcNow - started).TotalSeconds:F1} s)");
        return ExitCodes.Success;
    }

    internal static bool TryParseRect(string text, out int[] rect) => NoiseDemoCommand.TryParseSteps(text, out rect) && rect.Length == 4;
}
