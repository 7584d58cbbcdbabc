using Ddpm.Data;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Training;
using SixLabors.ImageSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class TrainingTests
{
    public TrainingTests() => TestSupport.Init();

    private static RunConfig TinyConfig(int timesteps = 100, int batch = 64, long seed = 1) => new()
    {
        Model = UNetConfig.FromPreset("tiny"),
        Diffusion = new DiffusionConfig { Schedule = "linear", Timesteps = timesteps },
        Data = new DataConfig { Path = TestSupport.MnistDir },
        Training = new OptimConfig { BatchSize = batch, LearningRate = 2e-3, WarmupSteps = 10, Seed = seed },
    };

    private static ImageDataset Mnist(int n) => ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, n);

    [Fact]
    public void Smoke_training_lowers_the_loss_and_saves_a_checkpoint_that_samples_to_a_png()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(2048);
        using (var trainer = Trainer.Create(run, TinyConfig(), data))
        {
            var result = trainer.Run(new TrainerOptions { Epochs = 3, PreviewEvery = 0 });
            Assert.Equal(TrainingOutcome.Completed, result.Outcome);
            Assert.Equal(3 * 32, result.Progress.GlobalStep);
        }

        var losses = File.ReadLines(Path.Combine(run, LossLog.FileName)).Skip(1)
            .Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(96, losses.Count);
        Assert.All(File.ReadLines(Path.Combine(run, LossLog.FileName)).Skip(1),
            l => Assert.InRange(double.Parse(l.Split(',')[5], System.Globalization.CultureInfo.InvariantCulture), 50, 20_000)); // resident MiB
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        double first = losses.Take(10).Average(), last = losses.TakeLast(10).Average();
        Assert.True(last < 0.7 * first, $"loss did not go down: first 10 steps {first:F3}, last 10 {last:F3}");

        var checkpoint = Checkpoint.Resolve(run);
        foreach (var f in new[] { Checkpoint.ConfigFile, Checkpoint.ProgressFile, Checkpoint.ModelFile, Checkpoint.EmaFile, Checkpoint.OptimizerFile, Checkpoint.RngFile })
            Assert.True(File.Exists(Path.Combine(checkpoint, f)), f);
        Assert.Equal(TinyConfig() with { }, Checkpoint.ReadConfig(checkpoint) with { Model = TinyConfig().Model }, new ConfigComparer());

        using var model = Checkpoint.LoadModel(checkpoint);
        var sampler = Sampling.Samplers.ForConfig(Checkpoint.ReadConfig(checkpoint).Diffusion);
        using var scope = NewDisposeScope();
        using var g = new Generator(0);
        var images = sampler.Sample(model, [6, 1, 28, 28], g);
        var png = Path.Combine(run, "grid.png");
        ImageGrid.Save(images, png, columns: 3, padding: 2, scale: 2);
        var info = Image.Identify(png);
        Assert.Equal((3 * 30 + 2) * 2, info.Width);
        Assert.Equal((2 * 30 + 2) * 2, info.Height);
    }

    private sealed class ConfigComparer : IEqualityComparer<RunConfig>
    {
        public bool Equals(RunConfig? a, RunConfig? b) => a!.Diffusion == b!.Diffusion && a.Training == b.Training;
        public int GetHashCode(RunConfig c) => 0;
    }

    /// <summary>Stops the run after a given global step, as Ctrl+C would.</summary>
    private sealed class StopAt(long step, CancellationTokenSource cts) : ITrainingObserver
    {
        public void OnStep(TrainingStatus status)
        {
            if (status.GlobalStep == step) cts.Cancel();
        }
    }

    [Fact]
    public void Interrupted_and_resumed_training_ends_with_the_same_weights_as_an_uninterrupted_run()
    {
        using var data = Mnist(640); // 10 steps per epoch at batch 64
        var straight = TestSupport.TempDir();
        using (var trainer = Trainer.Create(straight, TinyConfig(), data))
            trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0 });

        var interrupted = TestSupport.TempDir();
        using (var trainer = Trainer.Create(interrupted, TinyConfig(), data))
        {
            using var cts = new CancellationTokenSource();
            var result = trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0 }, new StopAt(13, cts), cts.Token);
            Assert.Equal(TrainingOutcome.Interrupted, result.Outcome);
            Assert.Equal(new TrainingProgress { Epoch = 1, StepInEpoch = 3, GlobalStep = 13 },
                result.Progress with { ElapsedSeconds = 0, LastLoss = double.NaN });
        }
        using (var resumed = Trainer.Resume(interrupted, data))
        {
            Assert.Equal(13, resumed.Progress.GlobalStep);
            var result = resumed.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0 });
            Assert.Equal(20, result.Progress.GlobalStep);
        }

        using var a = Checkpoint.LoadModel(Checkpoint.Resolve(straight), ema: false);
        using var b = Checkpoint.LoadModel(Checkpoint.Resolve(interrupted), ema: false);
        using var ea = Checkpoint.LoadModel(Checkpoint.Resolve(straight));
        using var eb = Checkpoint.LoadModel(Checkpoint.Resolve(interrupted));
        foreach (var ((name, p), (_, q)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(p.eq(q).all().item<bool>(), $"model {name} differs after resume");
        foreach (var ((name, p), (_, q)) in ea.named_parameters().Zip(eb.named_parameters()))
            Assert.True(p.eq(q).all().item<bool>(), $"EMA {name} differs after resume");
        // The loss log holds each step once.
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i),
            File.ReadLines(Path.Combine(interrupted, LossLog.FileName)).Skip(1).Select(l => long.Parse(l.Split(',')[0])));
    }

    /// <summary>Copies the run folder as it stands when the checkpoint after a given step is written: a crash right after it.</summary>
    private sealed class CopyAtCheckpoint(long step, string runDir, string copy) : ITrainingObserver
    {
        public List<long> Steps { get; } = [];

        public void OnCheckpoint(string path, TrainingStatus status)
        {
            Steps.Add(status.GlobalStep);
            if (status.GlobalStep != step) return;
            foreach (var file in Directory.EnumerateFiles(runDir, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith(RunLock.LockFile, StringComparison.Ordinal)))
            {
                var target = Path.Combine(copy, Path.GetRelativePath(runDir, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    [Fact]
    public void Mid_epoch_checkpoints_change_nothing_and_a_crash_after_one_resumes_exactly()
    {
        using var data = Mnist(640); // 10 steps per epoch at batch 64
        var straight = TestSupport.TempDir();
        using (var trainer = Trainer.Create(straight, TinyConfig(), data))
            trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0, CheckpointEvery = null });

        var saving = TestSupport.TempDir();
        var crashed = TestSupport.TempDir();
        var observer = new CopyAtCheckpoint(13, saving, crashed);
        using (var trainer = Trainer.Create(saving, TinyConfig(), data))
            trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0, CheckpointEvery = TimeSpan.Zero }, observer);
        // After every step: mid-epoch ones at steps 1-9 and 11-19, the epoch ends at 10 and 20.
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), observer.Steps);
        Assert.Equal(new TrainingProgress { Epoch = 1, StepInEpoch = 3, GlobalStep = 13 },
            Checkpoint.ReadProgress(Checkpoint.Resolve(crashed)) with { ElapsedSeconds = 0, LastLoss = double.NaN });
        using (var resumed = Trainer.Resume(crashed, data))
            resumed.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0 });

        using var a = Checkpoint.LoadModel(Checkpoint.Resolve(straight));
        foreach (var run in new[] { saving, crashed })
        {
            using var b = Checkpoint.LoadModel(Checkpoint.Resolve(run));
            foreach (var ((name, p), (_, q)) in a.named_parameters().Zip(b.named_parameters()))
                Assert.True(p.eq(q).all().item<bool>(), $"EMA {name} differs in {(run == saving ? "the run with mid-epoch checkpoints" : "the resumed copy")}");
        }
    }

    [Fact]
    public void Adam_beta2_reaches_the_optimizer_its_first_step_does_not_depend_on_it()
    {
        // Adam's bias-corrected first step is lr·g/(|g| + ε) for any β₂ (Kingma & Ba 2015, Algorithm 1: v̂_1 = g²);
        // from the second step on β₂ weighs the squared gradients, so the weights must differ.
        using var data = Mnist(64);
        float[] WeightsAfter(int steps, double beta2)
        {
            var config = TinyConfig(batch: 64) with { Training = TinyConfig().Training with { AdamBeta2 = beta2 } };
            using var trainer = Trainer.Create(TestSupport.TempDir(), config, data);
            trainer.Run(new TrainerOptions { Epochs = steps, PreviewEvery = 0 });
            return trainer.Model.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();
        }
        static double MaxDiff(float[] a, float[] b) => a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
        Assert.InRange(MaxDiff(WeightsAfter(1, 0.999), WeightsAfter(1, 0.1)), 0, 1e-7);
        Assert.True(MaxDiff(WeightsAfter(2, 0.999), WeightsAfter(2, 0.1)) > 1e-5, "β₂ did not change the second step");
        // A config written before the field existed trains with PyTorch's default β₂.
        var json = (TinyConfig() with { Training = TinyConfig().Training with { AdamBeta2 = 0.95 } }).ToJson();
        var old = System.Text.RegularExpressions.Regex.Replace(json, "\\s*\"adamBeta2\": 0.95,", "");
        Assert.NotEqual(json, old);
        Assert.Equal(0.999, RunConfig.FromJson(old, "old config").Training.AdamBeta2);
    }

    [Fact]
    public void Width_and_depth_override_the_preset_and_name_it()
    {
        var small = UNetConfig.FromPreset("small");
        Assert.Same(small, small.Resized(null, null));
        var wide = small.Resized(48, 2);
        Assert.Equal(("small-c48-b2", 48, 2, small.ChannelMultipliers), (wide.Preset, wide.BaseChannels, wide.BlocksPerLevel, wide.ChannelMultipliers));
        var e = Assert.Throws<DdpmException>(() => small.Resized(30, null));
        Assert.Contains("multiple of 4", e.Message);
    }

    [Fact]
    public void Time_limit_stops_cleanly_with_a_checkpoint()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(256);
        using var trainer = Trainer.Create(run, TinyConfig(), data);
        var result = trainer.Run(new TrainerOptions { Epochs = 5, PreviewEvery = 0, TimeLimit = TimeSpan.Zero });
        Assert.Equal(TrainingOutcome.TimeLimit, result.Outcome);
        Assert.Equal(0, result.Progress.GlobalStep);
        Assert.Equal(0, Checkpoint.ReadProgress(Checkpoint.Resolve(run)).GlobalStep);
    }

    [Fact]
    public void Same_seed_trains_to_identical_weights()
    {
        using var data = Mnist(256);
        UNet Train()
        {
            var run = TestSupport.TempDir();
            using (var trainer = Trainer.Create(run, TinyConfig(), data))
                trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 0 });
            return Checkpoint.LoadModel(Checkpoint.Resolve(run));
        }
        using var a = Train();
        using var b = Train();
        Assert.All(a.parameters().Zip(b.parameters()), pq => Assert.True(pq.First.eq(pq.Second).all().item<bool>()));
    }

    [Fact]
    public void Memory_stays_flat_over_hundreds_of_steps()
    {
        using var data = Mnist(64);
        using var trainer = Trainer.Create(TestSupport.TempDir(), TinyConfig(batch: 8), data);
        var stats = TorchSharp.DisposeScopeManager.Statistics;
        var batch = data.Images.narrow(0, 0, 8);
        long liveAt50 = 0;
        for (int step = 1; step <= 300; step++)
        {
            Assert.True(float.IsFinite(trainer.TrainStep(batch)));
            if (step == 50) liveAt50 = stats.ThreadTotalLiveCount;
        }
        Assert.Equal(liveAt50, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void Nan_loss_stops_training_and_keeps_the_last_good_checkpoint()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(128);
        using var trainer = Trainer.Create(run, TinyConfig(), data);
        trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 0 });
        var progressBefore = File.ReadAllText(Path.Combine(run, Checkpoint.FolderName, Checkpoint.ProgressFile));

        data.Images.fill_(float.NaN);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0 }));
        Assert.Contains("loss became NaN at step 3 (epoch 2)", e.Message);
        Assert.Contains("last good checkpoint is kept", e.Message);
        Assert.Equal(progressBefore, File.ReadAllText(Path.Combine(run, Checkpoint.FolderName, Checkpoint.ProgressFile)));
    }

    [Fact]
    public void A_crash_between_renames_falls_back_to_the_previous_checkpoint()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(64);
        using (var trainer = Trainer.Create(run, TinyConfig(), data))
            trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 0 });
        Directory.Move(Path.Combine(run, "checkpoint"), Path.Combine(run, "checkpoint.old"));
        Directory.CreateDirectory(Path.Combine(run, ".checkpoint.tmp-1")); // half-written, never renamed
        Assert.EndsWith("checkpoint.old", Checkpoint.Resolve(run));
        using var resumed = Trainer.Resume(run, data);
        Assert.Equal(1, resumed.Progress.Epoch);
    }

    [Fact]
    public void Weights_from_another_architecture_are_rejected()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(64);
        using (var trainer = Trainer.Create(run, TinyConfig(), data))
            trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 0 });
        using var small = new UNet(UNetConfig.FromPreset("small"));
        var e = Assert.Throws<DdpmException>(() => Checkpoint.LoadWeights(small, Path.Combine(run, "checkpoint", Checkpoint.EmaFile)));
        Assert.Contains("weights do not match the model in its config", e.Message);

        File.WriteAllText(Path.Combine(run, "checkpoint", Checkpoint.ConfigFile), "{\"format\": \"something-else\"}");
        Assert.Contains("not a ddpm checkpoint config", Assert.Throws<DdpmException>(() => Checkpoint.LoadModel(Path.Combine(run, "checkpoint"))).Message);
        Assert.Contains("checkpoint not found", Assert.Throws<DdpmException>(() => Checkpoint.Resolve("/nonexistent/run")).Message);
    }

    [Fact]
    public void Eval_every_epoch_logs_metrics_and_the_plot_shows_them()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(128);
        using var test = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test, 200);
        using var classifier = Evaluation.FeatureClassifier.Load(Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin"));
        using var evaluator = new Evaluation.SampleEvaluator(classifier, test);
        using var trainer = Trainer.Create(run, TinyConfig(timesteps: 5), data);
        trainer.Run(new TrainerOptions { Epochs = 2, PreviewEvery = 0, EvalEvery = 1, Evaluation = new Evaluation.TrainingEvaluation(evaluator, 10) });

        var rows = File.ReadAllLines(Path.Combine(run, Evaluation.TrainingEvaluation.FileName));
        Assert.Equal(Evaluation.TrainingEvaluation.Header, rows[0]);
        Assert.Equal(3, rows.Length);
        Assert.StartsWith("1,2,", rows[1]);  // epoch 1 ends at step 2
        Assert.StartsWith("2,4,", rows[2]);
        Assert.All(Evaluation.TrainingEvaluation.Read(run), p => Assert.True(p.Fcd > 0 && double.IsFinite(p.Fcd)));
        var plot = Image.Identify(Path.Combine(run, Trainer.PlotFile));
        Assert.Equal((900, 600), (plot.Width, plot.Height)); // loss panel + FCD panel
    }

    [Fact]
    public void Plot_without_evaluations_has_only_the_loss_panel()
    {
        var path = Path.Combine(TestSupport.TempDir(), "p.png");
        TrainingPlot.Save(path, [(1, 1.0), (2, 0.5), (3, 0.25)], []);
        var info = Image.Identify(path);
        Assert.Equal((900, 300), (info.Width, info.Height));
    }

    [Fact]
    public void Preview_is_written_from_the_ema_weights()
    {
        var run = TestSupport.TempDir();
        using var data = Mnist(64);
        using var trainer = Trainer.Create(run, TinyConfig(timesteps: 10), data);
        trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 1, PreviewCount = 4 });
        var info = Image.Identify(Path.Combine(run, Trainer.PreviewFolder, "epoch-0001.png"));
        Assert.Equal((2 * 30 + 2) * 2, info.Width);
    }
}
