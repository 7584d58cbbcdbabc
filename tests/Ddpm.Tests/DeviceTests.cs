using Ddpm.Model;
using Ddpm.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>
/// Device selection. Only the CPU runs here. libtorch 2.10's meta device (shapes without data) is the other device: it has no
/// kernels for index_select, convolutions or gamma draws, so the U-Net cannot run on it, but everything around the network
/// can. So the samplers' loops and the noise processes' training pairs and losses run on meta here with a stand-in network
/// (any library tensor left on the CPU would fail to combine with the meta ones), beside a device scope's own behaviour.
/// </summary>
public class DeviceTests
{
    public DeviceTests() => TestSupport.Init();

    private static readonly Device Meta = Devices.Resolve("meta");

    [Fact]
    public void A_device_scope_puts_new_tensors_and_a_models_parameters_on_its_device_and_restores_the_default()
    {
        using (new DeviceScope(Meta))
        {
            using var scope = NewDisposeScope();
            foreach (var t in new[] { zeros(2), randn(2, 3), tensor(new long[] { 1, 2 }), full(3, 1L, ScalarType.Int64), arange(4) })
                Assert.Equal(DeviceType.META, t.device_type);
            using var g = Devices.GeneratorFor(0, Meta);
            Assert.Equal(DeviceType.META, randn([2, 2], generator: g).device_type); // the CPU generator draws for meta
            using var unet = new UNet(UNetConfig.FromPreset("tiny") with { NumClasses = 10 });
            Assert.All(unet.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        }
        using var after = zeros(1);
        Assert.Equal(DeviceType.CPU, after.device_type);
    }

    /// <summary>A network stand-in that runs on any device: x ↦ x/2, recording where its inputs were.</summary>
    private sealed class Halver() : nn.Module<Tensor, Tensor, Tensor>("halver")
    {
        public List<DeviceType> Seen { get; } = [];

        public override Tensor forward(Tensor x, Tensor t)
        {
            Seen.Add(x.device_type);
            Seen.Add(t.device_type);
            return x * 0.5;
        }
    }

    [Theory]
    [InlineData("gaussian", "eps", "ddpm", false)]
    [InlineData("gaussian", "eps", "ddpm", true)]
    [InlineData("gaussian", "v", "ddim", false)]
    [InlineData("gaussian", "v", "dpm++2m", true)]
    [InlineData("gaussian", "edm", "heun", false)]
    [InlineData("mask", "eps", "cold", false)]
    public void Samplers_run_every_step_on_the_models_device(string noise, string prediction, string kind, bool clip)
    {
        var config = new Training.DiffusionConfig { Noise = noise, Prediction = prediction, Timesteps = 50, SigmaData = prediction == "edm" ? 0.5 : null };
        var sampler = Sampling.Samplers.ForConfig(config, new SamplerOptions { Kind = kind, Steps = 4, ClipX0 = clip, Churn = kind == "heun" ? 10 : 0 });
        var model = new Halver();
        using (new DeviceScope(Meta))
        {
            using var scope = NewDisposeScope();
            using var g = Devices.GeneratorFor(0, Meta);
            var observed = new List<DeviceType>();
            var x = sampler.Sample(model, [2, 1, 8, 8], g, observe: (_, xt) => observed.Add(xt.device_type));
            Assert.Equal(DeviceType.META, x.device_type);
            Assert.Equal([2L, 1, 8, 8], x.shape);
            Assert.Equal(sampler.States.Count, observed.Count);
            Assert.All(observed, d => Assert.Equal(DeviceType.META, d));
            Assert.NotEmpty(model.Seen);
            Assert.All(model.Seen, d => Assert.Equal(DeviceType.META, d));
        }
    }

    [Theory]
    [InlineData("gaussian", "eps", null)]
    [InlineData("gaussian", "v", 5.0)]
    [InlineData("gaussian", "edm", null)]
    [InlineData("mask", "eps", null)]
    public void Training_pairs_and_losses_are_made_on_the_batchs_device(string noise, string prediction, double? minSnr)
    {
        var config = new Training.DiffusionConfig { Noise = noise, Prediction = prediction, MinSnrGamma = minSnr, Timesteps = 50, SigmaData = prediction == "edm" ? 0.5 : null };
        var process = Diffusion.NoiseProcesses.Create(config);
        using (new DeviceScope(Meta))
        {
            using var scope = NewDisposeScope();
            using var g = Devices.GeneratorFor(0, Meta);
            var x0 = zeros(4, 1, 8, 8);
            var t = process.DrawSteps(4, g);
            var (input, target) = process.TrainingPair(x0, t, g);
            foreach (var made in new[] { t, input, target }) Assert.Equal(DeviceType.META, made.device_type);
            Assert.Equal(x0.shape, input.shape);
            if (noise == "mask") return; // cold diffusion's L1 loss needs abs, which has no meta kernel
            var loss = process.Loss(input * 0.5, target, t);
            Assert.Equal(DeviceType.META, loss.device_type);
            Assert.Empty(loss.shape); // a scalar
        }
    }

    [Fact]
    public void Inpainting_runs_on_the_models_device()
    {
        var repaint = Sampling.RePaint.ForConfig(new Training.DiffusionConfig { Prediction = "v", Timesteps = 20 }, jumpLength: 2, jumpCount: 2, steps: 4);
        var model = new Halver();
        using (new DeviceScope(Meta))
        {
            using var scope = NewDisposeScope();
            using var g = Devices.GeneratorFor(0, Meta);
            var known = zeros(2, 1, 8, 8);
            var mask = ones(1, 1, 8, 8);
            var x = repaint.Inpaint(model, known, mask, g);
            Assert.Equal(DeviceType.META, x.device_type);
            Assert.Equal(repaint.Steps * 2, model.Seen.Count);
            Assert.All(model.Seen, d => Assert.Equal(DeviceType.META, d));
        }
    }

    [Fact]
    public void The_ema_update_runs_on_the_models_device()
    {
        using (new DeviceScope(Meta))
        {
            using var unet = new UNet(UNetConfig.FromPreset("tiny"));
            using var ema = Training.Ema.CopyOf(unet, 0.999);
            using var flat = Training.FlatParameters.Bind(unet.parameters(), withGrads: false);
            ema.Update(flat, 100);
            Assert.All(ema.Model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        }
    }

    [Fact]
    public void Device_names_resolve_or_fail_with_one_line()
    {
        Assert.Equal(DeviceType.CPU, Devices.Resolve("cpu").type);
        Assert.Equal(DeviceType.CPU, Devices.Resolve(" CPU ").type);
        Assert.Equal(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, Devices.Resolve("auto").type);
        if (!cuda.is_available())
            foreach (var name in new[] { "cuda", "cuda:0" })
                Assert.Contains("CUDA is not available", Assert.Throws<DdpmException>(() => Devices.Resolve(name)).Message);
        Assert.Contains("unknown device 'tpu'", Assert.Throws<DdpmException>(() => Devices.Resolve("tpu")).Message);
    }
}
