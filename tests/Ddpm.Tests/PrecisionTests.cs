using Ddpm.Data;
using Ddpm.Model;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>bf16 convolutions with fp32 master weights (the mixed precision TorchSharp lacks as autocast).</summary>
public class PrecisionTests
{
    public PrecisionTests() => TestSupport.Init();

    [Fact]
    public void Bf16_forward_returns_fp32_close_to_the_fp32_model()
    {
        random.manual_seed(3);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(4, 1, 28, 28);
        var t = tensor(new long[] { 1, 10, 500, 1000 });
        var fp32 = model.forward(x, t);
        model.Precision = Precision.Bf16;
        var bf16 = model.forward(x, t);

        Assert.Equal(ScalarType.Float32, bf16.dtype);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        double relative = (bf16 - fp32).norm().item<float>() / fp32.norm().item<float>();
        // bf16 keeps 8 significand bits (relative rounding 2^-9 ≈ 0.2%); a few layers compound it.
        Assert.InRange(relative, 1e-5, 3e-2); // > 0: the bf16 path really ran
    }

    /// <summary>Same invariant as the fp32 gradient test, with a tolerance for bf16 rounding.</summary>
    [Theory]
    [InlineData("tiny", "seed")]
    [InlineData("small", "seed")]
    [InlineData("small", "ho")]
    public void Bf16_gradients_reach_the_fp32_master_weights_and_match_a_float64_copy(string preset, string architecture) =>
        GradientCheck.AgainstFloat64(preset, Precision.Bf16, tolerance: 5e-2, repeats: 2, seed: 12, architecture);

    [Fact]
    public void Mixed_precision_training_of_tiny_gives_finite_decreasing_losses_and_records_the_precision()
    {
        var run = TestSupport.TempDir();
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 2048);
        var config = new RunConfig
        {
            Model = UNetConfig.FromPreset("tiny"),
            Diffusion = new DiffusionConfig { Timesteps = 100 },
            Data = new DataConfig { Path = TestSupport.MnistDir },
            Training = new OptimConfig { BatchSize = 64, LearningRate = 2e-3, WarmupSteps = 10, Seed = 1, Precision = "bf16" },
        };
        using (var trainer = Trainer.Create(run, config, data))
        {
            Assert.Equal(Precision.Bf16, trainer.Model.Precision);
            Assert.Equal(Precision.Bf16, trainer.Ema.Model.Precision);
            trainer.Run(new TrainerOptions { Epochs = 3, PreviewEvery = 0 });
            Assert.All(trainer.Model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        }

        var losses = LossLog.Read(run).Select(r => r.Loss).ToList();
        Assert.Equal(96, losses.Count);
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        double first = losses.Take(10).Average(), last = losses.TakeLast(10).Average();
        Assert.True(last < 0.7 * first, $"loss did not go down: first 10 steps {first:F3}, last 10 {last:F3}");

        var checkpoint = Checkpoint.Resolve(run);
        Assert.Equal("bf16", Checkpoint.ReadConfig(checkpoint).Training.Precision);
        using var model = Checkpoint.LoadModel(checkpoint);
        Assert.Equal(Precision.Bf16, model.Precision);
    }

    [Fact]
    public void Configs_without_a_precision_are_fp32_and_unknown_names_are_errors()
    {
        Assert.Equal("fp32", new OptimConfig().Precision);
        Assert.Equal(Precision.Bf16, PrecisionNames.Parse("BF16"));
        Assert.Contains("unknown precision 'fp16' (choose from fp32, bf16)",
            Assert.Throws<DdpmException>(() => new OptimConfig { Precision = "fp16" }.Validate()).Message);
    }
}
