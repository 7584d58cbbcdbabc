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

/// <summary>
/// Every convolution shape of the small U-Net, bf16 and fp32, in the layout <see cref="MixedConv2d"/> picks on this machine, against a
/// float64 copy: output, input gradient and weight gradient (libtorch 2.10 computed some convolutions wrongly on one machine,
/// see docs/platform.md); and the startup check that picks the layout.
/// </summary>
public class ConvolutionLayoutTests
{
    public ConvolutionLayoutTests() => TestSupport.Init();

    [Theory]
    [InlineData(32, 32, 3, 1, 28)]
    [InlineData(96, 32, 3, 1, 28)]
    [InlineData(96, 32, 1, 1, 28)]
    [InlineData(32, 32, 3, 2, 28)]
    [InlineData(32, 64, 3, 1, 14)]
    [InlineData(64, 64, 3, 1, 14)]
    [InlineData(128, 64, 3, 1, 14)]
    [InlineData(128, 64, 1, 1, 14)]
    [InlineData(64, 64, 3, 2, 14)]
    [InlineData(64, 64, 3, 1, 7)]
    [InlineData(64, 192, 1, 1, 7)]
    [InlineData(128, 64, 3, 1, 7)]
    [InlineData(32, 1, 3, 1, 28)]
    [InlineData(1, 32, 3, 1, 28)]
    public void Convolution_matches_float64_in_bf16_and_fp32(int inChannels, int outChannels, int kernel, int stride, int size)
    {
        foreach (var precision in new[] { Precision.Bf16, Precision.Fp32 })
            AgainstFloat64(precision, inChannels, outChannels, kernel, stride, size);
    }

    private static void AgainstFloat64(Precision precision, int inChannels, int outChannels, int kernel, int stride, int size)
    {
        random.manual_seed(inChannels * 1000 + outChannels * 10 + kernel + stride + size);
        using var conv = new MixedConv2d(inChannels, outChannels, kernel, stride, kernel / 2) { Precision = precision };
        using var reference = new MixedConv2d(inChannels, outChannels, kernel, stride, kernel / 2);
        reference.load_state_dict(conv.state_dict());
        reference.to(ScalarType.Float64);
        for (int repeat = 0; repeat < 5; repeat++)
        {
            using var scope = NewDisposeScope();
            var x = randn(8, inChannels, size, size).requires_grad_(true);
            var x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
            var upstream = randn(8, outChannels, (size + stride - 1) / stride, (size + stride - 1) / stride);
            conv.zero_grad();
            reference.zero_grad();
            var y = conv.forward(x);
            var y64 = reference.forward(x64);
            (y * upstream).sum().backward();
            (y64 * upstream.to(ScalarType.Float64)).sum().backward();
            static double Relative(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b).norm().item<double>() / Math.Max(b.norm().item<double>(), 1e-12);
            var (output, input, weight) = (Relative(y, y64), Relative(x.grad!, x64.grad!), Relative(conv.parameters().First().grad!, reference.parameters().First().grad!));
            // bf16 keeps 8 significand bits: a sum of products lands within a few 10⁻³ of float64; fp32 within ~10⁻⁶.
            double tolerance = precision == Precision.Bf16 ? 2e-2 : 1e-4;
            Assert.True(output < tolerance && input < tolerance && weight < tolerance,
                $"{precision.Name()}, repeat {repeat}: relative error of the output {output:E1}, input gradient {input:E1}, weight gradient {weight:E1}");
        }
    }

    [Fact]
    public void The_layout_check_passes_a_correct_convolution_and_fails_wrong_ones_without_touching_the_global_random_state()
    {
        Tensor Fp32(Tensor x, Tensor w, Tensor b, long stride, long padding) => nn.functional.conv2d(x, w, b, [stride, stride], [padding, padding]);
        random.manual_seed(4);
        var expected = randn(3).data<float>().ToArray();
        random.manual_seed(4);
        Assert.True(ConvolutionCheck.Matches(Fp32));
        Assert.Equal(expected, randn(3).data<float>().ToArray());
        // 5 % off in the output, NaN in a gradient, a wrong input gradient alone: each fails.
        Assert.False(ConvolutionCheck.Matches((x, w, b, s, p) => Fp32(x, w, b, s, p) * 1.05));
        Assert.False(ConvolutionCheck.Matches((x, w, b, s, p) => Fp32(x, w, b, s, p) + (x.sum() * double.NaN)));
        Assert.False(ConvolutionCheck.Matches((x, w, b, s, p) => Fp32(x + x.detach() * 0 + (x - x.detach()) * 0.5, w, b, s, p)));
    }
}
