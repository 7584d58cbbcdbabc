using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.ApiTests;

/// <summary>
/// Train, load, generate, inpaint and evaluate through the public API only (this project cannot see internal types), on a tiny
/// model trained once for the class.
/// </summary>
public sealed class PublicApiTests : IClassFixture<PublicApiTests.TrainedRun>
{
    private readonly TrainedRun _run;

    public PublicApiTests(TrainedRun run) => _run = run;

    /// <summary>Two runs of 2 steps each (256 MNIST images, batch 128, tiny U-Net, T = 50): one conditional (the default recipe), one unconditional.</summary>
    public sealed class TrainedRun : IDisposable
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "ddpm-api-tests", Guid.NewGuid().ToString("N")[..12]);
        public string Conditional => Path.Combine(Root, "cond");
        public string Unconditional => Path.Combine(Root, "uncond");
        public TrainingResult First { get; }
        public TrainingResult Resumed { get; }
        public List<long> Steps { get; } = [];

        public TrainedRun()
        {
            DdpmRuntime.Initialize(threads: 1);
            var request = new TrainingRequest { Data = MnistDir, Subset = 256, Preset = "tiny", Timesteps = 50, BatchSize = 128, RunDirectory = Conditional };
            using (var run = TrainingRun.Start(request))
                First = run.Train(new TrainingSchedule { Epochs = 1, PreviewEvery = 0 }, new StepCounter(Steps));
            using (var run = TrainingRun.Resume(Conditional))
                Resumed = run.Train(new TrainingSchedule { Epochs = 2, PreviewEvery = 0 }, new StepCounter(Steps));
            using (var run = TrainingRun.Start(request with { Conditional = false, RunDirectory = Unconditional }))
                run.Train(new TrainingSchedule { Epochs = 1, PreviewEvery = 0 });
        }

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        }
    }

    private sealed class StepCounter(List<long> steps) : ITrainingObserver
    {
        public void OnStep(TrainingStatus status) => steps.Add(status.GlobalStep);
    }

    public static string MnistDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ddpm.sln"))) dir = dir.Parent;
            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), "data", "mnist");
        }
    }

    [Fact]
    public void Training_reports_every_step_and_a_resumed_run_continues_where_it_stopped()
    {
        Assert.Equal(TrainingOutcome.Completed, _run.First.Outcome);
        Assert.Equal(2, _run.First.Progress.GlobalStep); // 256 images / batch 128
        Assert.Equal(4, _run.Resumed.Progress.GlobalStep);
        Assert.Equal([1, 2, 3, 4], _run.Steps);
        Assert.True(File.Exists(Path.Combine(_run.Conditional, "checkpoint", "ema.bin")));
    }

    [Fact]
    public void A_loaded_model_describes_itself()
    {
        using var model = DiffusionModel.Load(_run.Conditional);
        var info = model.Info;
        Assert.Equal((28, 1, 10, 50, 4L), (info.ImageSize, info.Channels, info.ClassCount, info.Timesteps, info.TrainedSteps));
        Assert.True(info.IsConditional);
        Assert.Equal("gaussian", info.Noise);
        Assert.Contains("v-prediction", info.Objective);
        Assert.Equal(0.5, info.DefaultGuidance); // fewer than 1,900 steps
        Assert.Equal(7, model.ClassIndex("7"));
        // A conditional model samples with guidance by default, so with DDIM, 10 steps; w = 0 switches to DPM-Solver++(2M), 20.
        Assert.StartsWith("DDIM, 10 steps, η = 0", model.DescribeSampler());
        Assert.Equal(11, model.SamplerStates().Count);
        Assert.StartsWith("DPM-Solver++(2M), 20 steps", model.DescribeSampler(guidance: 0));
        Assert.Equal([50, 0], new[] { model.SamplerStates(guidance: 0)[0], model.SamplerStates(guidance: 0)[^1] });
        Assert.StartsWith("DDIM, 50 steps", model.DescribeSampler(new SamplerOptions { Kind = "ddim" })); // named without steps: all T
    }

    [Fact]
    public void Generation_is_reproducible_in_range_and_follows_the_requested_classes()
    {
        using var model = DiffusionModel.Load(_run.Conditional);
        var request = new GenerationRequest { Count = 4, Seed = 3, Sampler = new SamplerOptions { Steps = 5 } };
        using var a = model.Generate(request);
        using var b = model.Generate(request);
        using var other = model.Generate(request with { Seed = 4 });
        Assert.Equal([4L, 1, 28, 28], a.Images.shape);
        Assert.True(a.Images.eq(b.Images).all().item<bool>(), "the same seed must give the same images");
        Assert.False(a.Images.eq(other.Images).all().item<bool>());
        Assert.InRange(a.Images.min().item<float>(), -1, 1);
        Assert.InRange(a.Images.max().item<float>(), -1, 1);
        Assert.Equal([0, 1, 2, 3], a.Labels!);
        Assert.Equal(0.5, a.Guidance);

        using var rows = model.Generate(request with { Count = 2, ClassRows = [3, 5], Guidance = 1 });
        Assert.Equal([3, 3, 5, 5], rows.Labels!);
        Assert.Equal(1, rows.Guidance);
        using var sevens = model.Generate(request with { Count = 3, Classes = [7] });
        Assert.Equal([7, 7, 7], sevens.Labels!);
        Assert.Throws<DdpmException>(() => model.Generate(request with { Classes = [10] }));
    }

    [Fact]
    public void Images_come_out_as_png_bytes_an_imagesharp_image_and_files()
    {
        using var model = DiffusionModel.Load(_run.Unconditional);
        Assert.False(model.Info.IsConditional);
        // The ancestral sampler with all T = 50 steps visits t = 50, 49, ..., 0.
        using var images = model.Generate(new GenerationRequest { Count = 4, Sampler = new SamplerOptions { Kind = "ddpm" }, FramesEvery = 10, SnapshotsNear = [50, 25, 0] });
        Assert.Null(images.Labels);
        // A 2×2 grid of 28-pixel tiles with 2 pixels of padding around each: 2·28 + 3·2 = 62 pixels, ×2 with scale 2.
        byte[] png = images.ToPng(scale: 2);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using (var decoded = Image.Load<L8>(png)) Assert.Equal((124, 124), (decoded.Width, decoded.Height));
        using (var picture = images.ToImage(columns: 4)) Assert.Equal((4 * 28 + 5 * 2, 28 + 2 * 2), (picture.Width, picture.Height));
        // Pixel values: a tile's first pixel is the image's first value mapped from [−1, 1] to 0..255.
        using (var decoded = Image.Load<L8>(images.ToPng()))
        {
            float v = images.Images[0, 0, 0, 0].item<float>();
            Assert.InRange(decoded[2, 2].PackedValue, (int)Math.Floor((v + 1) * 127.5) - 1, (int)Math.Ceiling((v + 1) * 127.5) + 1);
        }
        Assert.Equal([50, 40, 30, 20, 10, 0], images.Frames);
        Assert.Equal([50, 25, 0], images.Snapshots);
        using (var x0 = images.StateAt(0)) Assert.True(x0.allclose(images.Images, rtol: 0, atol: 1e-6));
        var dir = Path.Combine(_run.Root, "files");
        images.SavePng(Path.Combine(dir, "grid.png"), title: "four samples");
        images.SaveNpz(Path.Combine(dir, "samples.npz"));
        images.SaveGif(Path.Combine(dir, "process.gif"));
        images.SaveSnapshots(Path.Combine(dir, "strip.png"), rows: 2);
        foreach (var f in new[] { "grid.png", "samples.npz", "process.gif", "strip.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 0, f);
        using (var strip = Image.Load(Path.Combine(dir, "strip.png"))) Assert.Equal((3 * 28 + 4 * 2, 2 * 28 + 3 * 2), (strip.Width, strip.Height));
        Assert.Throws<DdpmException>(() => model.Generate(new GenerationRequest { Classes = [1] }));
        Assert.Throws<DdpmException>(() => model.Generate(new GenerationRequest { Guidance = 1 }));
    }

    [Fact]
    public void Inpainting_keeps_the_known_pixels_and_fills_the_rest()
    {
        using var model = DiffusionModel.Load(_run.Conditional);
        using var scope = NewDisposeScope();
        var (digit, label) = Images.TestImage(MnistDir, 0, model.Info);
        Assert.Equal(7, label); // MNIST's first test digit
        var mask = Images.RectangleMask(28, 0, 14, 28, 14); // the lower half is missing
        var request = new InpaintRequest { Image = digit, Mask = mask, Count = 2, Steps = 10, JumpLength = 2, Resamplings = 2, Class = 7 };
        Assert.StartsWith("RePaint, S = 10 steps, j = 2, r = 2", model.DescribeInpainting(request));
        using var completions = model.Inpaint(request);
        Assert.Equal([2L, 1, 28, 28], completions.Images.shape);
        var known = completions.Images.narrow(2, 0, 14);
        Assert.True(known.allclose(digit.narrow(2, 0, 14).expand(2, -1, -1, -1), rtol: 0, atol: 1e-5), "the known half must be the input's");
        Assert.False(completions.Images.narrow(2, 14, 14).allclose(digit.narrow(2, 14, 14).expand(2, -1, -1, -1), rtol: 0, atol: 0.05));
        Assert.Throws<DdpmException>(() => model.Inpaint(request with { Image = digit.narrow(2, 0, 14) }));
    }

    [Fact]
    public void The_evaluator_scores_real_images_near_the_floor_and_noise_far_from_it()
    {
        using var evaluator = QualityEvaluator.Open(MnistDir);
        Assert.Equal(10, evaluator.ClassCount);
        var floor = evaluator.Floor(200);
        Assert.Equal(200, floor.N);
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var noise = rand([200, 1, 28, 28], generator: g) * 2 - 1;
        var scored = evaluator.Score("uniform noise", noise);
        Assert.True(scored.Fcd > 20 * floor.Fcd, $"noise FCD {scored.Fcd} vs floor {floor.Fcd}");
        Assert.True(floor.ConfidentFraction > 0.9);
        using var model = DiffusionModel.Load(_run.Conditional);
        using var samples = model.Generate(new GenerationRequest { Count = 20, Sampler = new SamplerOptions { Steps = 3 } });
        var report = evaluator.Score("samples", samples);
        Assert.NotNull(report.ConditionalAccuracy); // the requested classes were passed on
        Assert.Equal(20, report.N);
    }

    [Fact]
    public void A_probe_of_a_conditional_model_holds_its_labels_with_the_null_class_last()
    {
        using var model = DiffusionModel.Load(_run.Conditional);
        var file = Path.Combine(_run.Root, "probe", "probe.npz");
        model.ExportProbe(file);
        using var zip = System.IO.Compression.ZipFile.OpenRead(file);
        Assert.Equal(["labels.npy", "output.npy", "t.npy", "x.npy"], zip.Entries.Select(e => e.Name).Order().ToArray());
        using var stream = zip.GetEntry("labels.npy")!.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        int header = BitConverter.ToUInt16(bytes, 8);
        var labels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes.AsSpan(10 + header)).ToArray();
        Assert.Equal([0L, 1, 2, model.Info.ClassCount], labels); // three classes, then ∅ (the embedding's last row)
    }

    [Fact]
    public void Exported_weights_import_to_a_checkpoint_that_samples_the_same_images()
    {
        using var model = DiffusionModel.Load(_run.Conditional);
        var file = Path.Combine(_run.Root, "export", "model.safetensors");
        model.ExportSafetensors(file);
        var dir = DiffusionModel.ImportSafetensors(file, Path.Combine(_run.Root, "imported"));
        using var imported = DiffusionModel.Load(dir);
        var (x, y) = (model.Info, imported.Info);
        Assert.Equal((x.Summary, x.Objective, x.ClassCount, x.TrainedSteps, x.ParameterCount, x.DefaultGuidance), (y.Summary, y.Objective, y.ClassCount, y.TrainedSteps, y.ParameterCount, y.DefaultGuidance));
        var request = new GenerationRequest { Count = 4, Seed = 5, Sampler = new SamplerOptions { Steps = 4 } };
        using (var a = model.Generate(request))
        using (var b = imported.Generate(request))
            Assert.True(a.Images.eq(b.Images).all().item<bool>(), "the imported checkpoint must sample the same images");

        // The file is plain safetensors: an 8-byte little-endian header length (a multiple of 8, so the data is aligned), a JSON
        // header with each tensor's dtype, shape and byte range, the config in __metadata__, then the float32 bytes.
        var bytes = File.ReadAllBytes(file);
        long n = (long)BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0, n % 8);
        using var header = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var metadata = header.RootElement.GetProperty("__metadata__");
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal("4", metadata.GetProperty("ddpm.trained_steps").GetString());
        Assert.Contains("\"timesteps\": 50", metadata.GetProperty("ddpm.config").GetString());
        long elements = 0, end = 0;
        foreach (var tensor in header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
        {
            Assert.Equal("F32", tensor.Value.GetProperty("dtype").GetString());
            long count = tensor.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64());
            var range = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            Assert.Equal(4 * count, range[1] - range[0]);
            (elements, end) = (elements + count, Math.Max(end, range[1]));
        }
        Assert.Equal(bytes.Length - 8 - n, end);
        Assert.Equal(model.Info.ParameterCount, elements); // every parameter, no buffers
        Assert.Contains(header.RootElement.EnumerateObject(), p => p.Name.EndsWith(".weight", StringComparison.Ordinal));

        var resume = Assert.Throws<DdpmException>(() => TrainingRun.Resume(dir));
        Assert.Contains("holds weights only", resume.Message);
        Assert.Throws<DdpmException>(() => DiffusionModel.ImportSafetensors(Path.Combine(_run.Conditional, "checkpoint", "ema.bin"), Path.Combine(_run.Root, "bad")));
    }

    [Fact]
    public void Bad_inputs_are_one_line_errors()
    {
        var missing = Assert.Throws<DdpmException>(() => DiffusionModel.Load(Path.Combine(_run.Root, "nothing-here")));
        Assert.Contains("checkpoint not found", missing.Message);
        var taken = Assert.Throws<DdpmException>(() => TrainingRun.Start(new TrainingRequest { Data = MnistDir, Subset = 64, Preset = "tiny", RunDirectory = _run.Conditional }));
        Assert.Contains("already holds a run", taken.Message);
        Assert.Throws<DdpmException>(() => TrainingRun.Start(new TrainingRequest { Data = Path.Combine(_run.Root, "no-data") }));
        // A request no input could make valid is a usage error (the CLI's exit 2), raised before any data is read.
        var usage = Assert.Throws<DdpmUsageException>(() => TrainingRun.Start(new TrainingRequest { Data = Path.Combine(_run.Root, "no-data"), Noise = "blur", Prediction = "v" }));
        Assert.Contains("apply to gaussian noise only", usage.Message);
        foreach (var e in new DdpmException[] { missing, taken, usage }) Assert.DoesNotContain('\n', e.Message);
    }
}
