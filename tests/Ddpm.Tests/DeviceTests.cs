using Ddpm.Model;
using Ddpm.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>
/// Device selection. Only the CPU runs here; libtorch 2.10's meta device (shapes without data) has no kernels for
/// index_select, convolutions or gamma draws, so the sampling and training paths cannot be run on it: what is tested is that
/// a <see cref="DeviceScope"/> puts every tensor made without a device, and a model's parameters, on its device, and that
/// names resolve or fail with one line.
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
