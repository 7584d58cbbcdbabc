using Ddpm.Data;
using Ddpm.Diffusion;
using Ddpm.Diffusion.Predictions;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Objectives (eps, v, min-SNR), the learning-rate budget, zero init and the seed recipe's exact reproduction.</summary>
public class RecipeTests
{
    public RecipeTests() => TestSupport.Init();

    private static string Fixture(string name) => Path.Combine(TestSupport.RepoRoot, "tests", "Ddpm.Tests", "Fixtures", name);

    [Fact]
    public void V_prediction_identities_hold_at_a_hand_computed_point()
    {
        // x_0 = 1, ε = 0.5, α = 0.6, σ = 0.8: x_t = 0.6 + 0.4 = 1.0, v = αε − σx_0 = 0.3 − 0.8 = −0.5.
        var v = new VPrediction();
        var (x0, eps, a, s) = (tensor(1f), tensor(0.5f), tensor(0.6f), tensor(0.8f));
        var target = v.Target(x0, eps, a, s);
        Assert.Equal(-0.5f, target.item<float>(), 1e-6f);
        var xt = tensor(1.0f);
        Assert.Equal(0.5f, v.ToEpsilon(xt, target, a, s).item<float>(), 1e-6f);                            // ε̂ = σ x_t + α v
        Assert.Equal(1.0f, ModelOutput.X0FromEpsilon(xt, v.ToEpsilon(xt, target, a, s), 0.6, 0.8).item<float>(), 1e-6f); // x̂_0 = α x_t − σ v
        Assert.Equal(0.5f, new EpsilonPrediction().Target(x0, eps, a, s).item<float>());
    }

    [Theory]
    // SNR, γ, weight for ε, weight for v: min(SNR, γ)/SNR and min(SNR, γ)/(SNR + 1).
    [InlineData(0.25, 5, 1.0, 0.2)]
    [InlineData(1, 5, 1.0, 0.5)]
    [InlineData(10, 5, 0.5, 5.0 / 11)]
    [InlineData(100, 5, 0.05, 5.0 / 101)]
    public void Min_snr_weights_at_chosen_snrs(double snr, double gamma, double epsWeight, double vWeight)
    {
        var x = tensor(new[] { snr });
        Assert.Equal(epsWeight, new EpsilonPrediction().MinSnrWeight(x, gamma).item<double>(), 12);
        Assert.Equal(vWeight, new VPrediction().MinSnrWeight(x, gamma).item<double>(), 12);
    }

    [Fact]
    public void Min_snr_loss_weights_each_example_by_its_step()
    {
        var schedule = NoiseSchedule.Create("linear", 1000);
        using var process = new GaussianDiffusion(schedule, new EpsilonPrediction(), 5);
        // Two examples, squared errors 1 and 4 everywhere, at t = 1 (SNR ≈ 9999: weight 5/SNR) and t = 1000 (SNR ≈ 4e-5: weight 1).
        var t = tensor(new long[] { 1, 1000 });
        var prediction = cat([ones(1, 1, 2, 2), full(1, 1, 2, 2, 2f)]);
        var loss = process.Loss(prediction, zeros(2, 1, 2, 2), t).item<float>();
        double snr1 = schedule.AlphaBar[1] / (1 - schedule.AlphaBar[1]);
        Assert.Equal((1 * 5 / snr1 + 4 * 1.0) / 2, loss, 5);
    }

    [Fact]
    public void Recipes_fill_in_what_is_not_given()
    {
        Assert.Equal(("eps", (double?)null, "constant", "seed", false), Recipes.Seed.Resolve());
        Assert.Equal(("v", (double?)5, "cosine", "zero", true), Recipes.Fast.Resolve());
        Assert.Equal(("eps", (double?)null, "cosine", "ho", false), Recipes.Fast.Resolve("eps", 0, architecture: "ho", conditional: false)); // γ = 0: uniform
        Assert.Equal(("edm", (double?)null, "cosine", "zero", true), Recipes.Fast.Resolve("edm"));                      // edm has its own λ(σ)
        Assert.Equal(("eps", (double?)3, "constant", "seed", true), Recipes.Seed.Resolve(minSnrGamma: 3, conditional: true));
    }

    [Fact]
    public void Cosine_learning_rate_warms_up_then_halves_at_mid_budget_and_ends_at_zero()
    {
        var o = new OptimConfig { LearningRate = 1e-3, WarmupSteps = 10, LrSchedule = LearningRates.Cosine };
        Assert.Equal(1e-4, LearningRates.At(o, 0, 0), 12);           // (0 + 1)/10 of the peak
        Assert.Equal(1e-3, LearningRates.At(o, 50, 0), 12);
        Assert.Equal(0.5e-3, LearningRates.At(o, 50, 0.5), 12);      // cos(π/2) = 0: half the peak
        Assert.Equal(1e-3 * (1 + Math.Sqrt(0.5)) / 2, LearningRates.At(o, 50, 0.25), 12);
        Assert.Equal(0, LearningRates.At(o, 50, 1), 12);
        Assert.Equal(1e-3, LearningRates.At(o with { LrSchedule = LearningRates.Constant }, 50, 0.9), 12);
        // A time budget: 300 of 600 seconds is half way even after only 10 % of the steps.
        Assert.Equal(0.5, new TrainingBudget(1000, 600).Progress(100, 300), 12);
        Assert.Equal(0.8, new TrainingBudget(1000, 600).Progress(800, 60), 12);
    }

    [Fact]
    public void Zero_init_makes_a_fresh_ho_unet_output_exactly_zero_and_the_seed_unet_does_not()
    {
        random.manual_seed(1);
        using var ho = new UNet(Architectures.Apply(UNetConfig.FromPreset("tiny"), Architectures.Ho));
        using var seed = new UNet(UNetConfig.FromPreset("tiny"));
        using var _ = no_grad();
        var x = randn(2, 1, 28, 28);
        var t = tensor(new long[] { 5, 900 });
        Assert.Equal(0f, ho.forward(x, t).abs().max().item<float>());
        Assert.True(seed.forward(x, t).abs().max().item<float>() > 1e-3f);
        // Zero init touches only the last layer of each path: the first convolution keeps its random weights.
        Assert.True(ho.named_parameters().First(p => p.name.StartsWith("inputConv")).parameter.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Ho_unet_has_a_skip_from_the_input_and_each_downsampler()
    {
        var config = Architectures.Apply(UNetConfig.FromPreset("tiny"), Architectures.Ho);
        using var model = new UNet(config);
        // 3 levels × (1 + 1) up blocks, 3 down blocks; attention after the 14×14 blocks (one down, two up) plus the bottleneck.
        Assert.Equal(6, model.named_modules().Count(m => m.name.StartsWith("upBlocks.") && m.name.Count(c => c == '.') == 1));
        Assert.Equal(4, model.named_modules().Count(m => m.module is SelfAttention));
        using var _ = no_grad();
        Assert.Equal([3, 1, 28, 28], model.forward(randn(3, 1, 28, 28), tensor(new long[] { 1, 2, 3 })).shape);
    }

    /// <summary>
    /// The seed recipe trains exactly as ddpm did before recipes existed: the losses of the first two steps equal the ones
    /// the earlier version (commit 2fa157b) wrote to loss.csv for the same run (tiny, 128 images, T = 20, batch 64, 1 thread).
    /// </summary>
    [Fact]
    public void Seed_recipe_reproduces_the_earlier_versions_losses()
    {
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 128);
        var recipe = Recipes.Seed;
        var config = new RunConfig
        {
            Model = Architectures.Apply(UNetConfig.FromPreset("tiny"), recipe.Architecture),
            Diffusion = new DiffusionConfig { Timesteps = 20, Prediction = recipe.Prediction, MinSnrGamma = recipe.MinSnrGamma },
            Data = new DataConfig { Subset = 128, Count = 128 },
            Training = new OptimConfig { Precision = "bf16", LrSchedule = recipe.LrSchedule },
        };
        var dir = TestSupport.TempDir();
        using var trainer = Trainer.Create(dir, config, data);
        trainer.Run(new TrainerOptions { Epochs = 1, PreviewEvery = 0 });
        var losses = LossLog.Read(dir).Select(r => r.Loss).ToArray();
        Assert.Equal(2, losses.Length);
        Assert.Equal(1.08037, losses[0], 4); // loss.csv of the earlier version, 6 significant digits
        Assert.Equal(1.09437, losses[1], 4);
    }

    /// <summary>A checkpoint written before this change (commit 2fa157b: no prediction, lrSchedule or U-Net variant fields) loads,
    /// samples what that version sampled with the same seed (up to bf16 rounding: the convolutions may run in another layout now),
    /// and resumes.</summary>
    [Theory]
    [InlineData("ddpm", 0, "v1-tiny-ddpm-seed3.npz")]
    [InlineData("ddim", 5, "v1-tiny-ddim5-seed3.npz")]
    public void Old_checkpoint_loads_and_samples_what_the_earlier_version_sampled(string kind, int steps, string expectedFile)
    {
        var dir = Fixture("v1-tiny");
        var config = Checkpoint.ReadConfig(dir);
        Assert.Equal("eps", config.Diffusion.Prediction);
        Assert.Null(config.Diffusion.MinSnrGamma);
        Assert.False(config.Model.ZeroInit || config.Model.FullSkips || config.Model.AttentionLevels.Length > 0);
        using var model = Checkpoint.LoadModel(dir);
        var sampler = Samplers.ForConfig(config.Diffusion, new SamplerOptions { Kind = kind, Steps = steps });
        using var g = new Generator(3);
        using var scope = NewDisposeScope();
        var images = ImageBytes.ToBytes(sampler.Sample(model, [4, 1, 28, 28], g));
        TestSupport.AssertSameImagesUpToRounding(ImageBytes.ToBytes(NpzReader.Load(Fixture(expectedFile))), images);
    }
}
