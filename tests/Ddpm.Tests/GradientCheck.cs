using Ddpm.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

internal static class GradientCheck
{
    /// <summary>
    /// Every parameter gradient of the real model (fp32 master weights, computing in <paramref name="precision"/>)
    /// matches a float64 copy (default layout) on the same inputs, within a relative error.
    /// </summary>
    /// <param name="architecture">An <see cref="Architectures"/> variant, built without zero init (which would make most gradients 0).</param>
    public static void AgainstFloat64(string preset, Precision precision, double tolerance, int repeats, int seed, string architecture = Architectures.Seed)
    {
        random.manual_seed(seed);
        var config = Architectures.Apply(UNetConfig.FromPreset(preset), architecture) with { ZeroInit = false };
        using var model = new UNet(config) { Precision = precision };
        using var reference = new UNet(config);
        reference.load_state_dict(model.state_dict());
        reference.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        var x = randn(8, 1, 28, 28);
        var t = randint(1, 1001, [8], dtype: ScalarType.Int64);
        var target = randn(8, 1, 28, 28);

        for (int repeat = 0; repeat < repeats; repeat++)
        {
            model.zero_grad();
            reference.zero_grad();
            nn.functional.mse_loss(model.forward(x, t), target).backward();
            nn.functional.mse_loss(reference.forward(x.to(ScalarType.Float64), t), target.to(ScalarType.Float64)).backward();
            foreach (var ((name, p), (_, q)) in model.named_parameters().Zip(reference.named_parameters()))
            {
                Assert.Equal(ScalarType.Float32, p.grad!.dtype);
                var g = p.grad!.to(ScalarType.Float64);
                Assert.True(g.isfinite().all().item<bool>(), $"{name}: non-finite gradient");
                double relative = (g - q.grad!).norm().item<double>() / Math.Max(q.grad!.norm().item<double>(), 1e-8);
                Assert.True(relative < tolerance, $"{name}: relative gradient error {relative:E2} ({precision.Name()})");
            }
        }
    }
}
