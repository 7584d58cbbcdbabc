using Ddpm.Data;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Class-conditional U-Net, label dropout and classifier-free guidance (Ho &amp; Salimans 2022).</summary>
public class ConditionalTests
{
    public ConditionalTests() => TestSupport.Init();

    private static UNet Conditional() => new(UNetConfig.FromPreset("tiny") with { NumClasses = 10 });

    private static RunConfig Config(double labelDrop) => new()
    {
        Model = UNetConfig.FromPreset("tiny") with { NumClasses = 10 },
        Diffusion = new DiffusionConfig { Timesteps = 50 },
        Data = new DataConfig { Path = TestSupport.MnistDir },
        Training = new OptimConfig { BatchSize = 32, LearningRate = 2e-3, WarmupSteps = 5, Seed = 4, LabelDrop = labelDrop },
    };

    [Fact]
    public void The_label_changes_the_prediction_and_no_label_means_the_null_class()
    {
        random.manual_seed(5);
        using var model = Conditional();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // A fresh embedding is random, so different labels give different ε.
        var x = randn(2, 1, 28, 28);
        var t = tensor(new long[] { 30, 30 });
        var three = model.Forward(x, t, tensor(new long[] { 3, 3 }));
        var seven = model.Forward(x, t, tensor(new long[] { 7, 7 }));
        Assert.True((three - seven).abs().max().item<float>() > 1e-4);
        var none = model.forward(x, t);
        var nullClass = model.Forward(x, t, full(2, model.NullClass, ScalarType.Int64));
        Assert.Equal(0f, (none - nullClass).abs().max().item<float>());
    }

    [Fact]
    public void Unconditional_models_reject_labels_and_guidance()
    {
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        using var scope = NewDisposeScope();
        Assert.Contains("unconditional", Assert.Throws<DdpmException>(() => model.Forward(zeros(1, 1, 28, 28), ones(1, dtype: ScalarType.Int64), zeros(1, dtype: ScalarType.Int64))).Message);
        Assert.Contains("trained with --conditional", Assert.Throws<DdpmException>(() => new GuidedModel(model, zeros(1, dtype: ScalarType.Int64), 1)).Message);
        using var conditional = Conditional();
        Assert.Contains("class labels must be in 0..9", Assert.Throws<DdpmException>(() => new GuidedModel(conditional, tensor(new long[] { 10 }), 1)).Message);
    }

    [Fact]
    public void Guidance_is_the_weighted_difference_and_w_0_is_plain_conditional_sampling()
    {
        random.manual_seed(6);
        using var model = Conditional();
        model.eval();
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 1, 4, 9 });
        var x = randn(3, 1, 28, 28);
        var t = tensor(new long[] { 5, 20, 40 });
        using (no_grad())
        {
            var conditional = model.Forward(x, t, labels);
            var unconditional = model.forward(x, t);
            using var w2 = new GuidedModel(model, labels, 2);
            var expected = conditional * 3 - unconditional * 2;
            Assert.True((w2.forward(x, t) - expected).abs().max().item<float>() < 1e-5);
        }

        // w = 0: the same images as sampling the conditional ε directly, with the same noise.
        var sampler = new DdimSampler(NoiseSchedule.Create("linear", 50), 10, eta: 1);
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        using var w0 = new GuidedModel(model, labels, 0);
        var a = sampler.Sample(w0, [3, 1, 28, 28], g1);
        var b = sampler.Sample(new PlainConditional(model, labels), [3, 1, 28, 28], g2);
        Assert.Equal(0f, (a - b).abs().max().item<float>());
    }

    /// <summary>ε(x, t, c) without the guidance wrapper, for the w = 0 comparison.</summary>
    private sealed class PlainConditional(UNet model, Tensor labels) : nn.Module<Tensor, Tensor, Tensor>("plain")
    {
        public override Tensor forward(Tensor x, Tensor t) => model.Forward(x, t, labels);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.5, true)]
    public void Label_dropout_trains_the_null_class_embedding(double labelDrop, bool nullRowChanges)
    {
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 256);
        using var trainer = Trainer.Create(TestSupport.TempDir(), Config(labelDrop), data);
        var embedding = trainer.Model.named_parameters().Single(p => p.name.StartsWith("classEmbedding")).parameter;
        using var before = embedding.detach().clone();
        for (int i = 0; i < 5; i++)
            Assert.True(float.IsFinite(trainer.TrainStep(data.Images.narrow(0, 32 * i, 32), data.Labels.narrow(0, 32 * i, 32))));

        float nullChange = (embedding.narrow(0, 10, 1) - before.narrow(0, 10, 1)).abs().max().item<float>();
        float labelChange = (embedding.narrow(0, 0, 10) - before.narrow(0, 0, 10)).abs().max().item<float>();
        Assert.True(labelChange > 0, "the class rows must train");
        Assert.Equal(nullRowChanges, nullChange > 0);
    }

    [Fact]
    public void A_conditional_training_run_saves_the_classes_and_reloads_strictly()
    {
        var run = TestSupport.TempDir();
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 128);
        using (var trainer = Trainer.Create(run, Config(0.1), data))
            trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 0 });
        var checkpoint = Checkpoint.Resolve(run);
        Assert.Equal(10, Checkpoint.ReadConfig(checkpoint).Model.NumClasses);
        using var model = Checkpoint.LoadModel(checkpoint);
        Assert.True(model.Config.IsConditional);

        // The same weights do not load into an unconditional model.
        using var plain = new UNet(UNetConfig.FromPreset("tiny"));
        Assert.Throws<DdpmException>(() => Checkpoint.LoadWeights(plain, Path.Combine(checkpoint, Checkpoint.EmaFile)));
    }

    [Fact]
    public void Default_guidance_follows_the_runs_length_at_the_measured_runs()
    {
        // BENCHMARKS.md: the 10-minute run (1,295 steps) scored best at w = 0.5, the 30-minute run (4,232 steps) at w = 0.25.
        Assert.Equal(0.5, Generation.DefaultGuidanceFor(1295));
        Assert.Equal(0.25, Generation.DefaultGuidanceFor(4232));
        Assert.Equal(0.5, Generation.DefaultGuidanceFor(0));
        Assert.Equal(0.5, Generation.DefaultGuidanceFor(Generation.ShortRunSteps - 1));
        Assert.Equal(0.25, Generation.DefaultGuidanceFor(Generation.ShortRunSteps));
    }

    [Fact]
    public void Generation_labels_make_rows_per_digit_or_cycle()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 3, 3, 5, 5 }, Generation.RowsOf([3, 5], 2).data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 0, 1 }, Generation.Cycling([0, 1, 2], 5).data<long>().ToArray());
        // What a checkpoint generates by default: its classes in turn, guided, or no labels at all for an unconditional model.
        var conditional = Generation.Default(UNetConfig.FromPreset("tiny") with { NumClasses = 3 }, 7, guidance: 1.5);
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2, 0 }, conditional.Labels!.data<long>().ToArray());
        Assert.Equal(1.5, conditional.Guidance);
        Assert.Null(Generation.Default(UNetConfig.FromPreset("tiny"), 7, Generation.DefaultGuidance).Labels);
    }
}
