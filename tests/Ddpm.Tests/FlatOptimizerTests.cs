using Ddpm.Model;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>
/// The flat-buffer optimizer against TorchSharp's own per-parameter AdamW and clip_grad_norm_ (another implementation's
/// output), and the flat EMA against the per-parameter one.
/// </summary>
public class FlatOptimizerTests
{
    public FlatOptimizerTests() => TestSupport.Init();

    private static (UNet Model, Tensor X, Tensor T) TinyModel(int seed)
    {
        random.manual_seed(seed);
        var model = new UNet(UNetConfig.FromPreset("tiny"));
        return (model, randn(4, 1, 28, 28).DetachFromDisposeScope(), randint(1, 1001, [4], dtype: ScalarType.Int64).DetachFromDisposeScope());
    }

    private static void Backward(UNet model, Tensor x, Tensor t, double scale)
    {
        using var scope = NewDisposeScope();
        (model.forward(x, t).square().mean() * scale).backward();
    }

    [Theory]
    [InlineData(0.0, 1.0)]     // gradients far below the clipping norm: plain AdamW
    [InlineData(0.01, 1e4)]    // gradients far above it, and weight decay
    public void Flat_AdamW_with_clipping_matches_TorchSharp_per_parameter(double weightDecay, double lossScale)
    {
        var (reference, x, t) = TinyModel(5);
        var (flatModel, _, _) = TinyModel(5);
        using (reference)
        using (flatModel)
        using (var torchSharpAdamW = optim.AdamW(reference.parameters(), lr: 1e-3, beta2: 0.99, weight_decay: weightDecay))
        using (var flat = FlatParameters.Bind(flatModel.parameters(), withGrads: true))
        using (var adam = new FlatAdamW(flat, lr: 1e-3, beta2: 0.99, weightDecay: weightDecay))
        {
            for (int step = 0; step < 3; step++)
            {
                torchSharpAdamW.zero_grad();
                Backward(reference, x, t, lossScale);
                nn.utils.clip_grad_norm_(reference.parameters(), 1.0);
                torchSharpAdamW.step();

                adam.ZeroGrad();
                Backward(flatModel, x, t, lossScale);
                adam.ClipGradNorm(1.0);
                // The clipped gradients themselves: the same up to the order of the norm's sum.
                foreach (var ((name, p), (_, q)) in reference.named_parameters().Zip(flatModel.named_parameters()))
                {
                    double relative = (p.grad! - q.grad!).norm().item<float>() / Math.Max(p.grad!.norm().item<float>(), 1e-12);
                    Assert.True(relative < 1e-5, $"step {step}, {name}: clipped gradient differs by {relative:E2} (relative)");
                }
                adam.Step();
            }
            Assert.Equal(3, adam.StepCount);
            // Three steps move a weight by up to 3·lr = 3e-3; Adam's m/√v amplifies the gradients' last-bit differences where
            // they are tiny, so the weights agree to 1 % of one step (a wrong β, bias correction or decay is off by far more).
            foreach (var ((name, p), (_, q)) in reference.named_parameters().Zip(flatModel.named_parameters()))
            {
                double diff = (p - q).abs().max().item<float>();
                Assert.True(diff < 1e-5, $"{name}: differs by {diff:E2} after three steps");
            }
            // The module's parameters really are views of the flat buffer: one write reaches both.
            using (no_grad()) flat.Values.fill_(0.25f);
            Assert.All(flatModel.parameters(), p => Assert.True(p.eq(0.25f).all().item<bool>()));
        }
    }

    [Fact]
    public void Gradients_accumulate_into_the_flat_buffer_and_zeroing_keeps_them_there()
    {
        var (model, x, t) = TinyModel(7);
        using (model)
        using (var flat = FlatParameters.Bind(model.parameters(), withGrads: true))
        {
            for (int i = 0; i < 2; i++)
            {
                flat.Grads!.zero_();
                Backward(model, x, t, 1.0);
                var fromParameters = cat(model.parameters().Select(p => p.grad!.flatten()).ToArray());
                Assert.True(fromParameters.eq(flat.Grads).all().item<bool>(), $"pass {i}: the parameters' gradients are not the flat buffer's");
                Assert.True(flat.Grads.abs().sum().item<float>() > 0);
            }
        }
    }

    [Fact]
    public void Flat_ema_update_follows_the_warmed_up_decay_for_every_parameter()
    {
        var (model, x, t) = TinyModel(9);
        using (model)
        using (var start = Ema.CopyOf(model, 0.9))
        using (var flatEma = Ema.CopyOf(model, 0.9))
        using (var flat = FlatParameters.Bind(model.parameters(), withGrads: false))
        {
            for (long step = 0; step < 40; step += 13)
            {
                using (no_grad()) foreach (var p in model.parameters()) p.add_(0.01f * (step + 1));
                flatEma.Update(flat, step);
            }
            // By hand: the model moves by m = 0.01, 0.15, 0.42, 0.82 after steps 0, 13, 26, 39; the decays min(0.9, (1+n)/(10+n)) are
            // 0.1, 14/23, 27/36, 40/49; e ← d e + (1 − d) m gives 0.009, 0.0641739, 0.1531304, 0.2756167 above the start.
            foreach (var ((name, p), (_, p0)) in flatEma.Model.named_parameters().Zip(start.Model.named_parameters()))
                Assert.True((p - p0 - 0.2756167).abs().max().item<float>() < 1e-5, $"{name} is not 0.2756167 above its start");
        }
    }
}
