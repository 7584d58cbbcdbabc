using Ddpm.Benchmarks;
using Ddpm.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class LayerProfileTests
{
    [Fact]
    public void Breakdown_times_every_layer_once_and_its_rows_add_up_to_the_step()
    {
        var config = UNetConfig.FromPreset("tiny");
        using var model = new UNet(config) { Precision = Precision.Bf16 };
        using var scope = NewDisposeScope();
        const int batch = 4;
        var rows = LayerProfile.Run(model, randn(batch, 1, 28, 28), randint(1, 1001, [batch], dtype: ScalarType.Int64), stepMs: 50, iterations: 1);

        // The glue rows reconcile the layers with the measured step.
        Assert.Equal(50, rows.Sum(r => r.TotalMs), 6);
        var modules = model.named_modules().Select(m => m.module).ToList();
        Assert.Equal(modules.Count(m => m is MixedConv2d), rows.Where(r => r.Layer.StartsWith("conv ", StringComparison.Ordinal)).Sum(r => r.Count));
        Assert.Equal(modules.Count(m => m is GroupNorm), rows.Where(r => r.Layer.StartsWith("GroupNorm ", StringComparison.Ordinal)).Sum(r => r.Count));
        Assert.All(rows.Where(r => r.Layer.StartsWith("conv ", StringComparison.Ordinal)), r => Assert.True(r.ForwardMs > 0 && r.BackwardMs > 0, r.Layer));
        Assert.Contains(rows, r => r.Layer == "conv 3x3 8→8 @28x28 bf16");
        Assert.Contains(rows, r => r.Layer == "conv 3x3 1→8 @28x28"); // one input channel: always fp32

        // Convolutions and linear layers, forward and backward, from the shapes seen by the hooks: the flop
        // counter's total without the attention products (4·tokens²·channels at 7×7, 16 channels).
        double attention = 4.0 * 49 * 49 * 16;
        Assert.Equal(3 * batch * (FlopCounter.UNetForward(config) - attention) / 1e9, rows.Sum(r => r.Gflop), 9);
    }
}
