using Ddpm.Cli;
using Ddpm.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Ddpm.Tests;

public class CliTests
{
    public CliTests() => TestSupport.Init();

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = DdpmCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static void AssertOneLineError(string err, string fragment)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("ddpm: ", lines[0]);
        Assert.Contains(fragment, lines[0]);
        Assert.DoesNotContain("   at ", err); // never a stack trace
    }

    [Theory]
    [InlineData("sample --n 0", "--n must be > 0, got 0")]
    [InlineData("sample --n -3", "--n must be > 0, got -3")]
    [InlineData("sample --n many", "many")]
    [InlineData("sample --sigma wide", "'wide' not recognized")]
    [InlineData("train --schedule quadratic", "'quadratic' not recognized")]
    [InlineData("train --model huge", "'huge' not recognized")]
    [InlineData("train --epochs 0", "--epochs must be > 0")]
    [InlineData("train --lr -1", "--lr must be > 0")]
    [InlineData("train --ema-decay 1", "--ema-decay must be in [0, 1)")]
    [InlineData("train --adam-beta2 1", "--adam-beta2 must be in (0, 1), got 1")]
    [InlineData("train --base-channels 30", "--base-channels must be a positive multiple of 4, got 30")]
    [InlineData("train --blocks-per-level 0", "--blocks-per-level must be >= 1, got 0")]
    [InlineData("train --channels 2", "--channels must be 1 or 3, got 2")]
    [InlineData("train --image-size 2", "--image-size must be >= 4, got 2")]
    [InlineData("train --resume runs/x --base-channels 48", "--base-channels cannot be combined with --resume")]
    [InlineData("train --timesteps 1", "--timesteps must be in 2..100000")]
    [InlineData("train --resume runs/x --model tiny", "--model cannot be combined with --resume")]
    [InlineData("noise-demo --t 0,x", "--t must be a comma-separated list of integers")]
    [InlineData("noise-demo --t 0,1001", "--t value 1001 is outside 0..1000")]
    [InlineData("noise-demo --t 5 --timesteps 4", "--t value 5 is outside 0..4")]
    [InlineData("noise-demo --t -1", "--t value -1 is outside 0..1000")]
    [InlineData("eval", "give exactly one of --checkpoint and --samples")]
    [InlineData("eval --checkpoint a --samples b", "give exactly one of --checkpoint and --samples")]
    [InlineData("eval --n 2 --samples x.npz", "--n must be in 5..100000")]
    [InlineData("sample --sampler ddpm --eta 1", "--eta applies to --sampler ddim only")]
    [InlineData("sample --sampler plms", "'plms' not recognized")]
    [InlineData("train --precision fp16", "'fp16' not recognized")]
    [InlineData("train --label-drop 1.5", "--label-drop must be in [0, 1], got 1.5")]
    [InlineData("sample --digits 9-x", "--digits must be a range like 0-9")]
    [InlineData("sample --digit 1 --digits 0-9", "give at most one of --digit, --class and --digits")]
    [InlineData("sample --class cat --digit 1", "give at most one of --digit, --class and --digits")]
    [InlineData("shapes --n 2", "--n must be in 3..1000000")]
    [InlineData("sample --title Quality", "--title: the figure font has no 'Q'")]
    [InlineData("train --threads -1", "--threads must be >= 0")]
    [InlineData("sample --columns -1", "--columns must be >= 0")]
    [InlineData("sample --gif-every 5", "--gif-every needs --gif")]
    [InlineData("sample --trajectory-t 5", "--trajectory-t needs --trajectory")]
    [InlineData("inpaint", "give exactly one of --image and --from-test")]
    [InlineData("inpaint --image a.png", "--image needs --mask or --mask-rect")]
    [InlineData("inpaint --from-test 1 --mask-rect 1,2,3", "--mask-rect must be four integers x,y,w,h")]
    [InlineData("sample --guidance -1", "--guidance must be >= 0, got -1")]
    [InlineData("eval --guidance 1,-2 --checkpoint x", "--guidance must be a comma-separated list of numbers >= 0")]
    [InlineData("sample --precision half", "'half' not recognized")]
    [InlineData("train --resume runs/x --precision fp32", "--precision cannot be combined with --resume")]
    [InlineData("train --noise salt", "'salt' not recognized")]
    [InlineData("train --noise blur --schedule cosine", "--schedule applies to gaussian and gamma noise; blur has its own severity schedule")]
    [InlineData("train --gamma-theta0 0.01", "--gamma-theta0 applies to --noise gamma only")]
    [InlineData("train --noise gamma --gamma-theta0 0", "--gamma-theta0 must be > 0")]
    [InlineData("train --start-perturbation 0.1", "--start-perturbation applies to --noise blur and mask only")]
    [InlineData("train --resume runs/x --noise mask", "--noise cannot be combined with --resume")]
    [InlineData("noise-demo --noise mask --schedule cosine", "--schedule applies to gaussian and gamma noise")]
    [InlineData("sample --sampler cold --eta 1", "--eta applies to --sampler ddim only")]
    [InlineData("sample --sampler gamma --clip-x0", "--clip-x0 applies to --sampler ddpm, ddim, dpm++2m only")]
    [InlineData("train --prediction x0", "'x0' not recognized")]
    [InlineData("train --min-snr -1", "--min-snr must be >= 0")]
    [InlineData("train --noise blur --prediction v", "--prediction and --min-snr apply to gaussian noise only")]
    [InlineData("train --recipe slow", "'slow' not recognized")]
    [InlineData("train --resume runs/x --recipe seed", "--recipe cannot be combined with --resume")]
    [InlineData("frobnicate", "Unrecognized command or argument 'frobnicate'")]
    [InlineData("train --bogus", "Unrecognized command or argument '--bogus'")]
    public void Bad_command_lines_exit_2_with_one_line(string args, string fragment)
    {
        var (code, _, err) = Run(args.Split(' '));
        Assert.Equal(ExitCodes.Usage, code);
        AssertOneLineError(err, fragment);
    }

    [Fact]
    public void Other_image_sizes_train_but_cannot_use_the_mnist_evaluator()
    {
        var dir = TestSupport.TempDir();
        var pixels = Enumerable.Range(0, 64 * 16 * 16).Select(i => (byte)(i * 13 % 256)).ToArray();
        Data.IdxFile.Write(Path.Combine(dir, "train-images-idx3-ubyte.gz"), new Data.IdxArray([64, 16, 16], pixels), gzip: true);
        Data.IdxFile.Write(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), new Data.IdxArray([64], new byte[64]), gzip: true);
        var mnistEvaluator = Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin");
        var eval = Run("train", "--data", dir, "--model", "tiny", "--eval-every", "1", "--conditional", "false", "--classifier", mnistEvaluator, "--out", Path.Combine(dir, "run"));
        Assert.Equal(ExitCodes.Failure, eval.Code);
        AssertOneLineError(eval.Err, "the model makes 16x16 grayscale images, the evaluator takes 28x28 grayscale");
        var missing = Run("train", "--data", dir, "--model", "tiny", "--eval-every", "1", "--conditional", "false", "--out", Path.Combine(dir, "run1"));
        AssertOneLineError(missing.Err, "classifier weights not found (train them with: ddpm eval train-classifier");
        var train = Run("train", "--data", dir, "--model", "tiny", "--epochs", "1", "--timesteps", "10", "--preview-every", "1", "--out", Path.Combine(dir, "run2"));
        Assert.True(train.Code == 0, train.Err);
        Assert.Equal((4 * 18 + 2) * 2, Image.Identify(Path.Combine(dir, "run2", "previews", "epoch-0001.png")).Width);
    }

    [Fact]
    public void Bench_quick_runs_and_prints_every_field()
    {
        var json = Path.Combine(TestSupport.TempDir(), "bench.json");
        var (code, output, err) = Run("bench", "--quick", "--model", "tiny", "--batch-size", "16", "--sample-batch", "8", "--json", json, "--precision", "bf16", "--layers");
        Assert.True(code == 0, err);
        foreach (var field in new[] { "each layer alone", "GroupNorm 16 @7x7", "outside the model", "train images/s", "denoising-step images/s", "sample 64 images, ddim 50 steps",
                     "sample 64 images, the default (DDIM, 10 steps, η = 0, v-prediction, guidance 0.25)", "GEMM peak fp32 / bf16",
                     "model-FLOPs utilisation", "resident memory peak / final", "live tensors after warm-up" })
            Assert.Contains(field, output);
        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.True(report.GetProperty("gemmPeakGflopPerSecondFp32").GetDouble() > 0);
        Assert.True(report.GetProperty("forwardGflopPerImage").GetDouble() > 0);
        Assert.Equal("bf16", report.GetProperty("precision").GetString());
        Assert.Equal("fast", report.GetProperty("recipe").GetString()); // the default recipe's network: conditional, zero init
        Assert.Contains("recipe fast", output);
        Assert.Contains("convolution layout", output);
        Assert.Contains("of bf16 GEMM peak", output);
        Assert.True(report.GetProperty("layers").GetArrayLength() > 10);
        // No timing assertions: this is a smoke test. Live tensors must not grow with steps.
        Assert.Equal(report.GetProperty("liveTensorsAfterWarmup").GetInt64(), report.GetProperty("liveTensorsAfterSteps").GetInt64());
    }

    [Fact]
    public void Bad_inputs_at_run_time_exit_1_with_one_line()
    {
        var dir = TestSupport.TempDir();
        var cases = new (string[] Args, string Fragment)[]
        {
            (["train", "--data", Path.Combine(dir, "nothing")], "data folder not found"),
            (["noise-demo", "--data", dir], "train-images-idx3-ubyte[.gz]: file not found"),
            (["sample", "--checkpoint", Path.Combine(dir, "nope")], "checkpoint not found"),
            (["sample", "--checkpoint", dir], "not a ddpm checkpoint or run folder"),
            (["noise-demo", "--data", TestSupport.MnistDir, "--out", "/proc/x/demo.png"], "cannot write"),
            (["eval", "--samples", Path.Combine(dir, "missing.npz"), "--data", TestSupport.MnistDir, "--classifier", Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin")], "missing.npz: file not found"),
            (["eval", "--checkpoint", Path.Combine(dir, "nope"), "--data", TestSupport.MnistDir, "--classifier", Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin")], "checkpoint not found"),
            (["eval", "--samples", "x.npz", "--classifier", Path.Combine(dir, "none.bin")], "classifier weights not found"),
        };
        foreach (var (args, fragment) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == ExitCodes.Failure, $"{string.Join(' ', args)} exited {code}: {err}");
            AssertOneLineError(err, fragment);
        }
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 9]);
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 1, 3]);
        var corrupt = Run("train", "--data", dir);
        Assert.Equal(ExitCodes.Failure, corrupt.Code);
        AssertOneLineError(corrupt.Err, "declares 1x2x2 = 4 bytes of data but the file holds 1");
    }

    [Fact]
    public void Train_sample_and_noise_demo_end_to_end_on_a_tiny_subset()
    {
        var dir = TestSupport.TempDir();
        var run = Path.Combine(dir, "run");
        var train = Run("train", "--data", TestSupport.MnistDir, "--subset", "256", "--epochs", "1", "--model", "tiny",
            "--timesteps", "20", "--batch-size", "64", "--out", run, "--preview-every", "1");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("Done: 1 epoch(s), 4 steps", train.Out);
        var auto = Ddpm.Model.PrecisionNames.Name(Ddpm.Model.PrecisionNames.Auto()); // the default precision, resolved for this CPU and recorded in the checkpoint
        Assert.Contains($"T = 20, {auto}, cosine learning rate;", train.Out);
        Assert.Equal(auto, Training.Checkpoint.ReadConfig(Training.Checkpoint.Resolve(run)).Training.Precision);
        Assert.True(File.Exists(Path.Combine(run, "previews", "epoch-0001.png")));

        var again = Run("train", "--data", TestSupport.MnistDir, "--subset", "256", "--out", run);
        Assert.Equal(ExitCodes.Failure, again.Code);
        AssertOneLineError(again.Err, "already holds a run: continue it with --resume");

        var grid = Path.Combine(dir, "grid.png");
        var npz = Path.Combine(dir, "s.npz");
        var sample = Run("sample", "--checkpoint", run, "--n", "10", "--columns", "5", "--scale", "1", "--out", grid, "--npz", npz, "--sampler", "ddpm", "--sigma", "beta-tilde");
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains($"σ² = beta-tilde, v-prediction, {auto}, cpu)", sample.Out); // sampling picks the fast precision for this CPU
        var info = Image.Identify(grid);
        Assert.Equal((5 * 30 + 2, 2 * 30 + 2), (info.Width, info.Height));
        Assert.True(new FileInfo(npz).Length > 10 * 784);
        // --weights raw samples the optimizer's weights instead of their EMA: after a few steps the two differ.
        var npzRaw = Path.Combine(dir, "raw.npz");
        var raw = Run("sample", "--checkpoint", run, "--n", "10", "--columns", "5", "--scale", "1", "--out", Path.Combine(dir, "raw.png"), "--npz", npzRaw, "--sampler", "ddpm", "--sigma", "beta-tilde", "--weights", "raw");
        Assert.True(raw.Code == 0, raw.Err);
        Assert.NotEqual(File.ReadAllBytes(npz), File.ReadAllBytes(npzRaw));

        var ddim = Run("sample", "--checkpoint", run, "--n", "4", "--sampler", "ddim", "--steps", "5", "--out", Path.Combine(dir, "ddim.png"), "--precision", "fp32");
        Assert.True(ddim.Code == 0, ddim.Err);
        Assert.Contains("DDIM, 5 steps, η = 0, v-prediction, fp32, cpu)", ddim.Out);
        var tooMany = Run("sample", "--checkpoint", run, "--n", "4", "--sampler", "ddim", "--steps", "21", "--out", Path.Combine(dir, "ddim.png"));
        Assert.Equal(ExitCodes.Failure, tooMany.Code);
        AssertOneLineError(tooMany.Err, "DDIM steps must be in 1..20");

        var classifier = Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin");
        var json = Path.Combine(dir, "eval.json");
        // Sampling from the checkpoint again with the same seed: the same images as the npz written above.
        var fromCheckpoint = Run("eval", "--checkpoint", run, "--n", "10", "--sampler", "ddpm", "--sigma", "beta-tilde", "--data", TestSupport.MnistDir, "--classifier", classifier, "--json", json);
        Assert.True(fromCheckpoint.Code == 0, fromCheckpoint.Err);
        Assert.Contains("FCD", fromCheckpoint.Out);
        Assert.Contains("real train images (N = 10)", fromCheckpoint.Out);
        Assert.Contains("run, w = 0.5", fromCheckpoint.Out); // the default recipe is conditional: classes in turn, a short run's guidance
        Assert.Contains("\"fcd\"", File.ReadAllText(json));

        var plot = Run("plot", run, "--out", Path.Combine(dir, "plot.png"));
        Assert.True(plot.Code == 0, plot.Err);
        Assert.Equal((900, 300), (Image.Identify(Path.Combine(dir, "plot.png")).Width, Image.Identify(Path.Combine(dir, "plot.png")).Height));
        Assert.True(File.Exists(Path.Combine(run, "training.png"))); // written by train at the epoch end

        var demo = Path.Combine(dir, "demo.png");
        var noise = Run("noise-demo", "--data", TestSupport.MnistDir, "--schedule", "all", "--t", "0,20,50,100,300", "--rows", "3", "--scale", "1", "--out", demo);
        Assert.True(noise.Code == 0, noise.Err);
        AssertLabelledGrid(demo, columns: 5, rows: 5 * 3);
    }

    /// <summary>A grid of 30-pixel tiles (28 + padding) at scale 1, plus the labels' margins above and to the left.</summary>
    private static void AssertLabelledGrid(string path, int columns, int rows)
    {
        var info = Image.Identify(path);
        Assert.InRange(info.Width, columns * 30 + 2 + 10, columns * 30 + 2 + 80);
        Assert.InRange(info.Height, rows * 30 + 2 + 5, rows * 30 + 2 + 20);
    }

    [Fact]
    public void Train_on_a_folder_of_images_stores_its_class_names_and_grayscale_folders_train_in_one_channel()
    {
        var dir = TestSupport.TempDir();
        var images = Path.Combine(dir, "marks");
        for (int i = 0; i < 8; i++)
        {
            int k = i;
            ImageFolderTests.Write(Path.Combine(images, i % 2 == 0 ? "bar" : "dot", $"{k}.png"), 8, 8,
                (x, y) => k % 2 == 0 ? (x == k % 8 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0)) : ((x - 4) * (x - 4) + (y - 4) * (y - 4) < 4 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0)));
        }
        var run = Path.Combine(dir, "run");
        var train = Run("train", "--data", images, "--model", "tiny", "--epochs", "1", "--batch-size", "4", "--preview-every", "0", "--out", run);
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("fewer than 10 images: bar (4), dot (4)", train.Out);
        var config = Ddpm.Training.Checkpoint.ReadConfig(Ddpm.Training.Checkpoint.Resolve(run));
        Assert.Equal(["bar", "dot"], config.Data.ClassNames!);
        Assert.Equal((8, 1, 2), (config.Model.ImageSize, config.Model.ImageChannels, config.Model.NumClasses));
        var sample = Run("sample", "--checkpoint", run, "--n", "4", "--steps", "2", "--class", "DOT", "--out", Path.Combine(dir, "grid.png"));
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("4 images of class 1 (dot)", sample.Out);
        var unknown = Run("sample", "--checkpoint", run, "--n", "4", "--steps", "2", "--class", "cat", "--out", Path.Combine(dir, "grid.png"));
        AssertOneLineError(unknown.Err, "class 'cat' is not one of this model's classes (0 = bar, 1 = dot)");
        var few = Run("train", "--data", images, "--model", "tiny", "--epochs", "1", "--preview-every", "0", "--out", Path.Combine(dir, "run2"));
        Assert.True(few.Code == 0, few.Err);
        Assert.Contains("8 image(s) is fewer than --batch-size 64: every step trains on all of them", few.Out);
    }

    [Fact]
    public void Fashion_mnist_format_idx_trains_a_conditional_model_that_samples_a_class_by_its_name()
    {
        var dir = TestSupport.TempDir();
        byte[] start = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9]; // Fashion-MNIST's first training labels: how it is told from MNIST
        DataSourceTests.WriteIdx(dir, "train", [.. start, .. Enumerable.Range(0, 36).Select(i => (byte)(i % 10))], size: 12);
        var run = Path.Combine(dir, "run");
        var train = Run("train", "--data", dir, "--model", "tiny", "--epochs", "1", "--batch-size", "16", "--timesteps", "20", "--preview-every", "0", "--out", run);
        Assert.True(train.Code == 0, train.Err);
        var config = Ddpm.Training.Checkpoint.ReadConfig(Ddpm.Training.Checkpoint.Resolve(run));
        Assert.Equal(10, config.Model.NumClasses);
        Assert.Equal("Trouser", config.Data.ClassNames![1]);
        var sample = Run("sample", "--checkpoint", run, "--n", "2", "--steps", "2", "--class", "ankle boot", "--out", Path.Combine(dir, "boots.png"));
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("2 images of class 9 (Ankle boot)", sample.Out);
    }

    [Fact]
    public void Colour_folder_trains_resumes_samples_inpaints_and_evaluates_with_its_own_classifier()
    {
        var dir = TestSupport.TempDir();
        var images = Path.Combine(dir, "shapes");
        var made = Run("shapes", "--out", images, "--n", "60", "--size", "8");
        Assert.True(made.Code == 0, made.Err);
        Assert.Contains("Wrote 60 8x8 PNGs", made.Out);
        var run = Path.Combine(dir, "run");
        var train = Run("train", "--data", images, "--model", "tiny", "--epochs", "1", "--batch-size", "16", "--timesteps", "20", "--preview-every", "1", "--out", run);
        Assert.True(train.Code == 0, train.Err);
        var config = Ddpm.Training.Checkpoint.ReadConfig(Ddpm.Training.Checkpoint.Resolve(run));
        Assert.Equal((8, 3, 3), (config.Model.ImageSize, config.Model.ImageChannels, config.Model.NumClasses));
        Assert.Equal(["circle", "square", "triangle"], config.Data.ClassNames!);
        Assert.Equal(24, Image.Identify(Path.Combine(run, "previews", "epoch-0001.png")).PixelType.BitsPerPixel);
        var resume = Run("train", "--resume", run, "--epochs", "2");
        Assert.True(resume.Code == 0, resume.Err);
        Assert.Equal(8, Ddpm.Training.Checkpoint.ReadProgress(Ddpm.Training.Checkpoint.Resolve(run)).GlobalStep);

        var grid = Path.Combine(dir, "grid.png");
        var sample = Run("sample", "--checkpoint", run, "--n", "4", "--class", "triangle", "--steps", "3", "--out", grid, "--npz", Path.Combine(dir, "s.npz"),
            "--gif", Path.Combine(dir, "s.gif"), "--trajectory", Path.Combine(dir, "strip.png"));
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("arr_0: 4x8x8x3 uint8", sample.Out);
        Assert.Equal(24, Image.Identify(grid).PixelType.BitsPerPixel);
        Assert.Equal(new long[] { 4, 3, 8, 8 }, Ddpm.Imaging.NpzReader.Load(Path.Combine(dir, "s.npz")).shape);

        var demo = Run("noise-demo", "--data", images, "--rows", "2", "--t", "0,10,20", "--timesteps", "20", "--out", Path.Combine(dir, "demo.png"));
        Assert.True(demo.Code == 0, demo.Err);
        Assert.Equal(24, Image.Identify(Path.Combine(dir, "demo.png")).PixelType.BitsPerPixel);
        var inpaint = Run("inpaint", "--checkpoint", run, "--image", Path.Combine(images, "circle", "00000.png"), "--mask-rect", "0,0,4,8", "--n", "2", "--steps", "10",
            "--jump-length", "2", "--resample", "2", "--out", Path.Combine(dir, "inpaint.png"));
        Assert.True(inpaint.Code == 0, inpaint.Err);

        var classifier = Path.Combine(dir, "shapes-cnn.bin");
        var trained = Run("eval", "train-classifier", "--data", images, "--epochs", "1", "--out", classifier);
        Assert.True(trained.Code == 0, trained.Err);
        Assert.Contains("on 6 held-out images (3 classes, 8x8 RGB)", trained.Out);
        var eval = Run("eval", "--checkpoint", run, "--n", "6", "--classifier", classifier, "--steps", "3");
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Contains("real train images (N = 6)", eval.Out);
        var mnistEvaluator = Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin");
        var wrong = Run("eval", "--checkpoint", run, "--n", "6", "--classifier", mnistEvaluator);
        AssertOneLineError(wrong.Err, "the model makes 8x8 RGB images, the evaluator takes 28x28 grayscale");

        var loose = Path.Combine(dir, "loose");
        ImageFolderTests.Write(Path.Combine(loose, "a.png"), 8, 8, (_, _) => new Rgb24(9, 9, 200));
        var unlabelled = Run("eval", "train-classifier", "--data", loose);
        AssertOneLineError(unlabelled.Err, "need labelled images (class folders or IDX label files)");
    }

    [Fact]
    public void Noise_types_train_sample_with_their_own_sampler_and_show_in_the_noise_demo()
    {
        var dir = TestSupport.TempDir();
        var run = Path.Combine(dir, "mask");
        var train = Run("train", "--data", TestSupport.MnistDir, "--subset", "128", "--epochs", "1", "--model", "tiny",
            "--timesteps", "20", "--batch-size", "32", "--out", run, "--preview-every", "1", "--noise", "mask");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("mask (cold diffusion), T = 20", train.Out);
        Assert.True(File.Exists(Path.Combine(run, "previews", "epoch-0001.png")));

        var grid = Path.Combine(dir, "grid.png");
        var sample = Run("sample", "--checkpoint", run, "--n", "4", "--steps", "5", "--out", grid, "--noise", "mask");
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("cold diffusion (mask), 5 steps", sample.Out);
        Assert.True(File.Exists(grid));

        var ddim = Run("sample", "--checkpoint", run, "--sampler", "ddim", "--out", grid);
        Assert.Equal(ExitCodes.Failure, ddim.Code);
        AssertOneLineError(ddim.Err, "--sampler ddim does not fit a checkpoint trained with mask noise (use cold)");
        var wrong = Run("eval", "--checkpoint", run, "--noise", "gamma", "--n", "5", "--data", TestSupport.MnistDir,
            "--classifier", Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin"));
        Assert.Equal(ExitCodes.Failure, wrong.Code);
        AssertOneLineError(wrong.Err, "was trained with mask noise, not gamma");
        var inpaint = Run("inpaint", "--checkpoint", run, "--from-test", "0", "--data", TestSupport.MnistDir, "--out", grid);
        Assert.Equal(ExitCodes.Failure, inpaint.Code);
        AssertOneLineError(inpaint.Err, "RePaint needs a Gaussian-noise checkpoint");

        var demo = Path.Combine(dir, "demo.png");
        var all = Run("noise-demo", "--data", TestSupport.MnistDir, "--noise", "all", "--t", "0,500,1000", "--rows", "2", "--scale", "1", "--out", demo);
        Assert.True(all.Code == 0, all.Err);
        Assert.Contains("gaussian noise, linear schedule; gamma noise, linear schedule; blur (cold diffusion); mask (cold diffusion)", all.Out);
        AssertLabelledGrid(demo, columns: 3, rows: 4 * 2);
    }

    [Fact]
    public void Conditional_training_digit_rows_guidance_gif_trajectory_and_inpainting_end_to_end()
    {
        var dir = TestSupport.TempDir();
        var run = Path.Combine(dir, "cond");
        var train = Run("train", "--data", TestSupport.MnistDir, "--subset", "128", "--epochs", "1", "--model", "tiny",
            "--timesteps", "20", "--batch-size", "32", "--out", run, "--preview-every", "0", "--conditional", "--label-drop", "0.2");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("class-conditional (10 classes)", train.Out);

        var grid = Path.Combine(dir, "digits.png");
        var gif = Path.Combine(dir, "process.gif");
        var strip = Path.Combine(dir, "strip.png");
        var sample = Run("sample", "--checkpoint", run, "--digits", "0-9", "--n", "3", "--guidance", "1.5", "--scale", "1", "--out", grid,
            "--sampler", "ddim", "--steps", "10", "--gif", gif, "--gif-every", "2", "--trajectory", strip, "--trajectory-t", "20,10,0");
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("10 rows of 3 (classes 0,1,2,3,4,5,6,7,8,9), guidance w = 1.5", sample.Out);
        Assert.Equal(ImageGrid.Size(30, 28, 28, 3, 2), (Image.Identify(grid).Width, Image.Identify(grid).Height));
        using (var animation = Image.Load(gif))
        {
            Assert.Equal(6, animation.Frames.Count); // DDIM states 20, 16, 12, 8, 4 (every 2nd of 20,18,...,2) and 0
            Assert.Equal(ImageGrid.Size(30, 28, 28, 3, 2), (animation.Width, animation.Height));
        }
        Assert.Equal(ImageGrid.Size(3 * 8, 28, 28, 3, 2), (Image.Identify(strip).Width, Image.Identify(strip).Height)); // 8 images x 3 t

        var one = Run("sample", "--checkpoint", run, "--digit", "7", "--n", "2", "--sampler", "ddim", "--steps", "5", "--out", Path.Combine(dir, "seven.png"));
        Assert.True(one.Code == 0, one.Err);
        Assert.Contains("2 images of class 7, guidance w = 0.5", one.Out);
        var mixed = Run("sample", "--checkpoint", run, "--n", "4", "--sampler", "ddim", "--steps", "5", "--out", Path.Combine(dir, "mixed.png"));
        Assert.True(mixed.Code == 0, mixed.Err);
        Assert.Contains("4 images, classes 0-9 in turn, guidance w = 0.5", mixed.Out);
        var outOfRange = Run("sample", "--checkpoint", run, "--digit", "12", "--out", Path.Combine(dir, "x.png"));
        Assert.Equal(ExitCodes.Usage, outOfRange.Code);
        AssertOneLineError(outOfRange.Err, "--digit: class 12 is outside 0..9");

        var inpainted = Path.Combine(dir, "inpaint.png");
        var inpaint = Run("inpaint", "--checkpoint", run, "--from-test", "3", "--n", "2", "--jump-length", "5", "--resample", "2",
            "--data", TestSupport.MnistDir, "--scale", "1", "--out", inpainted, "--digit", "0");
        Assert.True(inpaint.Code == 0, inpaint.Err);
        Assert.Contains("MNIST test digit 3 (label 0)", inpaint.Out);
        Assert.Contains("50% of the pixels to fill", inpaint.Out);
        Assert.Equal(ImageGrid.Size(4, 28, 28, 4, 2), (Image.Identify(inpainted).Width, Image.Identify(inpainted).Height));

        // A user's colour image of another size: converted with a note; a text file: one-line error.
        var photo = Path.Combine(dir, "photo.png");
        using (var image = new Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(64, 64, new SixLabors.ImageSharp.PixelFormats.Rgb24(200, 10, 10)))
            image.SaveAsPng(photo);
        var user = Run("inpaint", "--checkpoint", run, "--image", photo, "--mask-rect", "4,4,10,10", "--n", "1", "--jump-length", "5", "--resample", "1", "--out", inpainted);
        Assert.True(user.Code == 0, user.Err);
        Assert.Contains("Note: " + photo + ": converted colour to grayscale", user.Out);
        Assert.Contains("resized 64x64 to 28x28", user.Out);
        var notImage = Path.Combine(dir, "mask.png");
        File.WriteAllText(notImage, "hello");
        var bad = Run("inpaint", "--checkpoint", run, "--image", photo, "--mask", notImage, "--out", inpainted);
        Assert.Equal(ExitCodes.Failure, bad.Code);
        AssertOneLineError(bad.Err, "not a readable image");

        var classifier = Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin");
        var eval = Run("eval", "--checkpoint", run, "--n", "20", "--guidance", "0,2", "--sampler", "ddim", "--steps", "5",
            "--data", TestSupport.MnistDir, "--classifier", classifier);
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Contains("cond, w = 0", eval.Out);
        Assert.Contains("cond, w = 2", eval.Out);
        Assert.Contains("Classifier accuracy on the requested class", eval.Out);
    }

    [Fact]
    public void Digits_and_guidance_on_an_unconditional_checkpoint_are_clear_errors()
    {
        var dir = TestSupport.TempDir();
        var run = Path.Combine(dir, "plain");
        var train = Run("train", "--data", TestSupport.MnistDir, "--subset", "64", "--epochs", "1", "--model", "tiny",
            "--timesteps", "10", "--batch-size", "64", "--out", run, "--preview-every", "0", "--conditional", "false");
        Assert.True(train.Code == 0, train.Err);
        Assert.False(Training.Checkpoint.ReadConfig(Training.Checkpoint.Resolve(run)).Model.IsConditional);
        var digit = Run("sample", "--checkpoint", run, "--digit", "3", "--out", Path.Combine(dir, "x.png"));
        Assert.Equal(ExitCodes.Failure, digit.Code);
        AssertOneLineError(digit.Err, "--digit needs a class-conditional checkpoint (train with --conditional)");
        var guidance = Run("sample", "--checkpoint", run, "--guidance", "3", "--out", Path.Combine(dir, "x.png"));
        Assert.Equal(ExitCodes.Usage, guidance.Code);
        AssertOneLineError(guidance.Err, "--guidance applies to conditional checkpoints (trained with --conditional)");
        var labelDrop = Run("train", "--data", TestSupport.MnistDir, "--subset", "64", "--label-drop", "0.3", "--recipe", "seed", "--out", Path.Combine(dir, "y"));
        Assert.Equal(ExitCodes.Usage, labelDrop.Code);
        AssertOneLineError(labelDrop.Err, "--label-drop applies to --conditional training only");
    }

    /// <summary>A checkpoint of an earlier version (commit 2fa157b), exported to safetensors and imported back, samples what that
    /// version sampled with the same seed (the fixture's .npz), up to bf16 rounding.</summary>
    [Fact]
    public void An_exported_and_imported_old_checkpoint_samples_what_the_earlier_version_sampled()
    {
        var dir = TestSupport.TempDir();
        var fixtures = Path.Combine(TestSupport.RepoRoot, "tests", "Ddpm.Tests", "Fixtures");
        var file = Path.Combine(dir, "v1.safetensors");
        var export = Run("export", "--checkpoint", Path.Combine(fixtures, "v1-tiny"), "--out", file);
        Assert.True(export.Code == ExitCodes.Success, export.Err);
        var run = Path.Combine(dir, "run");
        var import = Run("import", file, "--out", run);
        Assert.True(import.Code == ExitCodes.Success, import.Err);
        var npz = Path.Combine(dir, "s.npz");
        var sample = Run("sample", "--checkpoint", run, "--sampler", "ddim", "--steps", "5", "--seed", "3", "--n", "4", "--precision", "bf16", "--npz", npz, "--out", Path.Combine(dir, "g.png"));
        Assert.True(sample.Code == ExitCodes.Success, sample.Err);
        using (var expected = NpzReader.Load(Path.Combine(fixtures, "v1-tiny-ddim5-seed3.npz")))
        using (var got = NpzReader.Load(npz))
            TestSupport.AssertSameImagesUpToRounding(ImageBytes.ToBytes(expected), ImageBytes.ToBytes(got));

        var notSafetensors = Run("import", Path.Combine(dir, "g.png"), "--out", Path.Combine(dir, "x"));
        Assert.Equal(ExitCodes.Failure, notSafetensors.Code);
        AssertOneLineError(notSafetensors.Err, "not a safetensors file");
        AssertOneLineError(Run("import", file, "--out", run).Err, "already holds a run");
        AssertOneLineError(Run("train", "--resume", run, "--epochs", "2").Err, "holds weights only");
        AssertOneLineError(Run("export", "--checkpoint", Path.Combine(dir, "nothing"), "--out", file).Err, "checkpoint not found");
    }

    /// <summary>export --probe: fixed inputs and the network's outputs for them, as numpy's .npy arrays in an .npz (what a port of the
    /// network, e.g. bench/peer/peer.py, checks itself against).</summary>
    [Fact]
    public void Export_probe_holds_the_networks_outputs_for_its_inputs_as_numpy_arrays()
    {
        var dir = TestSupport.TempDir();
        var checkpoint = Path.Combine(TestSupport.RepoRoot, "tests", "Ddpm.Tests", "Fixtures", "v1-tiny");
        var probe = Path.Combine(dir, "probe.npz");
        var export = Run("export", "--checkpoint", checkpoint, "--out", Path.Combine(dir, "w.safetensors"), "--probe", probe);
        Assert.True(export.Code == ExitCodes.Success, export.Err);
        var arrays = new Dictionary<string, (string Header, byte[] Data)>();
        using (var zip = System.IO.Compression.ZipFile.OpenRead(probe))
            foreach (var entry in zip.Entries)
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var bytes = buffer.ToArray();
                int headerLength = BitConverter.ToUInt16(bytes, 8); // .npy v1.0: magic, version, little-endian header length
                Assert.Equal(0, (10 + headerLength) % 64);
                arrays[entry.Name] = (System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength).TrimEnd(), bytes[(10 + headerLength)..]);
            }
        Assert.Equal(["output.npy", "t.npy", "x.npy"], arrays.Keys.Order().ToArray()); // unconditional: no labels
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 28, 28), }", arrays["x.npy"].Header);
        Assert.Equal("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", arrays["t.npy"].Header);
        Assert.Equal(arrays["x.npy"].Header, arrays["output.npy"].Header);

        var x = TorchSharp.torch.tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(arrays["x.npy"].Data).ToArray()).view(4, 1, 28, 28);
        var steps = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(arrays["t.npy"].Data).ToArray();
        var output = TorchSharp.torch.tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(arrays["output.npy"].Data).ToArray()).view(4, 1, 28, 28);
        var config = Training.Checkpoint.ReadConfig(checkpoint);
        Assert.Equal([1, config.Diffusion.Timesteps / 4, config.Diffusion.Timesteps / 2, config.Diffusion.Timesteps], steps);
        using var model = Training.Checkpoint.LoadModel(checkpoint);
        model.Precision = Model.Precision.Fp32; // export loads fp32
        using (TorchSharp.torch.no_grad())
        {
            model.eval();
            var again = model.forward(x, TorchSharp.torch.tensor(steps));
            Assert.True((again - output).abs().max().item<float>() < 1e-5, "the probe's output is not the network's output for its inputs");
            Assert.True(output.abs().max().item<float>() > 1e-3);
        }
    }

    [Fact]
    public void Device_options_take_the_cpu_and_refuse_a_missing_gpu_with_one_line()
    {
        var dir = TestSupport.TempDir();
        var fixture = Path.Combine(TestSupport.RepoRoot, "tests", "Ddpm.Tests", "Fixtures", "v1-tiny");
        var cpu = Run("sample", "--checkpoint", fixture, "--n", "2", "--steps", "2", "--sampler", "ddim", "--device", "cpu", "--out", Path.Combine(dir, "g.png"));
        Assert.True(cpu.Code == ExitCodes.Success, cpu.Err);
        Assert.Contains(", cpu)", cpu.Out);
        var bad = Run("sample", "--checkpoint", fixture, "--device", "gpu", "--out", Path.Combine(dir, "g.png"));
        Assert.Equal(ExitCodes.Usage, bad.Code);
        AssertOneLineError(bad.Err, "--device must be auto, cpu, cuda or cuda:N");
        if (!TorchSharp.torch.cuda.is_available())
        {
            var gpu = Run("sample", "--checkpoint", fixture, "--device", "cuda:0", "--out", Path.Combine(dir, "g.png"));
            Assert.Equal(ExitCodes.Failure, gpu.Code);
            AssertOneLineError(gpu.Err, "CUDA is not available");
        }
    }
}
