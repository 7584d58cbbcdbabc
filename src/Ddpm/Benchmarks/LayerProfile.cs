using System.Diagnostics;
using Ddpm.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Benchmarks;

/// <summary>One row of the breakdown: layers of one kind and shape, or the glue between them.</summary>
/// <param name="Layer">"conv 3x3 32→64 @28x28", "GroupNorm 64 @14x14", "ResBlock glue (SiLU, adds)", ...</param>
/// <param name="Count">Calls of this row per forward pass.</param>
/// <param name="ForwardMs">Summed forward milliseconds per training batch (median of the timed runs).</param>
/// <param name="BackwardMs">Summed backward milliseconds per training batch.</param>
/// <param name="Gflop">Forward + backward GFLOP per batch (convolutions and linear layers; 0 where not counted).</param>
internal sealed record LayerTiming(string Layer, int Count, double ForwardMs, double BackwardMs, double Gflop)
{
    public double TotalMs => ForwardMs + BackwardMs;
}

/// <summary>
/// Per-layer time of a training step: each layer call of one forward pass is captured with a forward hook
/// (its module and inputs), then run alone, forward and backward, on those inputs. What no layer accounts for
/// is reported as glue: inside blocks (SiLU, residual and time-embedding adds), between blocks (concatenation,
/// the output SiLU) and outside the model (noise, loss, gradient clipping, AdamW, EMA). Layers timed alone miss cache effects
/// between neighbours, so the rows are estimates that the glue rows reconcile with the measured step.
/// </summary>
internal static class LayerProfile
{
    private const int Warmup = 2;

    public static IReadOnlyList<LayerTiming> Run(UNet model, Tensor x, Tensor t, double stepMs, int iterations)
    {
        var calls = Capture(model, x, t);
        var timed = calls.Select(c => (c, Time(c, iterations))).ToList();

        var rows = new List<LayerTiming>();
        foreach (var group in timed.Where(p => p.c.IsLeaf).GroupBy(p => p.c.Label))
            rows.Add(new LayerTiming(group.Key, group.Count(), group.Sum(p => p.Item2.Forward), group.Sum(p => p.Item2.Backward), group.Sum(p => p.c.Gflop)));

        // Blocks: their own time minus their layers' is the functional glue inside them.
        foreach (var group in timed.Where(p => !p.c.IsLeaf).GroupBy(p => p.c.Kind))
        {
            double fwd = 0, bwd = 0;
            foreach (var (block, time) in group)
            {
                var inner = timed.Where(p => p.c.IsLeaf && p.c.Parent == block.Name).ToList();
                fwd += time.Forward - inner.Sum(p => p.Item2.Forward);
                bwd += time.Backward - inner.Sum(p => p.Item2.Backward);
            }
            rows.Add(new LayerTiming($"{group.Key} glue ({Glue(group.Key)})", group.Count(), fwd, bwd, 0));
        }

        var whole = Time(new Call("", nameof(UNet), null, false, [x, t], 0, nameof(UNet), a => model.forward(a[0], a[1])), iterations);
        var top = timed.Where(p => p.c.Parent is null).ToList();
        rows.Add(new LayerTiming("UNet glue (skip concatenation, output SiLU)", 1,
            whole.Forward - top.Sum(p => p.Item2.Forward), whole.Backward - top.Sum(p => p.Item2.Backward), 0));
        rows.Add(new LayerTiming("outside the model (noise, loss, gradient clipping, AdamW, EMA)", 1, stepMs - whole.Forward - whole.Backward, 0, 0));
        return rows;
    }

    private static string Glue(string kind) => kind switch
    {
        nameof(ResBlock) => "SiLU, time and residual adds",
        nameof(SelfAttention) => "attention matmuls, softmax, reshapes",
        "Upsample" => "nearest-neighbour interpolation",
        nameof(TimeEmbedding) => "sinusoids, SiLU",
        _ => "functional ops",
    };

    /// <summary>A module call seen during the forward pass; <see cref="Invoke"/> repeats it on the captured inputs.</summary>
    private sealed record Call(string Name, string Kind, string? Parent, bool IsLeaf, Tensor[] Inputs, double Gflop, string Label, Func<Tensor[], Tensor> Invoke);

    private static List<Call> Capture(UNet model, Tensor x, Tensor t)
    {
        var modules = model.named_modules().Where(m => m.name.Length > 0).ToList();
        // Blocks get their glue measured; layers are the leaves that do the arithmetic.
        var blockNames = modules.Where(m => m.module is nn.Module<Tensor, Tensor> or nn.Module<Tensor, Tensor, Tensor> && !IsLayer(m.module) && HasLayers(m.module))
            .Select(m => m.name).ToHashSet();
        string? ParentOf(string name) => blockNames.Where(b => name.StartsWith(b + ".", StringComparison.Ordinal)).MaxBy(b => b.Length);

        var calls = new List<Call>();
        var removers = new List<Action>();
        foreach (var (name, module) in modules)
        {
            bool leaf = IsLayer(module);
            if (!leaf && !blockNames.Contains(name)) continue;
            string kind = module.GetType().Name;
            string? parent = ParentOf(name);
            if (module is nn.Module<Tensor, Tensor> one)
            {
                var r = one.register_forward_hook((m, input, output) =>
                {
                    calls.Add(new Call(name, kind, parent, leaf, [Keep(input)], leaf ? Flops(m, input, output) : 0, Label(m, input, output), a => one.forward(a[0])));
                    return output;
                });
                removers.Add(r.remove);
            }
            else if (module is nn.Module<Tensor, Tensor, Tensor> two)
            {
                var r = two.register_forward_hook((m, a1, a2, output) =>
                {
                    calls.Add(new Call(name, kind, parent, leaf, [Keep(a1), Keep(a2)], 0, kind, a => two.forward(a[0], a[1])));
                    return output;
                });
                removers.Add(r.remove);
            }
        }
        using (no_grad())
        using (var scope = NewDisposeScope())
            model.forward(x, t);
        foreach (var remove in removers) remove();
        return calls;
    }

    private static bool IsLayer(nn.Module m) => m is MixedConv2d or GroupNorm or Linear or Embedding;

    private static bool HasLayers(nn.Module m) => m.named_modules().Any(c => IsLayer(c.module));

    private static Tensor Keep(Tensor input) => input.detach().clone().MoveToOuterDisposeScope();

    private static double Flops(nn.Module m, Tensor input, Tensor output) => m switch
    {
        // Forward 2·MACs; backward computes the input and the weight gradient, 2× that again.
        MixedConv2d or Linear => 3 * 2.0 * output.numel() * m.parameters().First().shape.Skip(1).Aggregate(1L, (a, b) => a * b) / 1e9,
        _ => 0,
    };

    private static string Label(nn.Module m, Tensor input, Tensor output) => m switch
    {
        MixedConv2d conv => $"conv {Kernel(conv)} {input.shape[1]}→{output.shape[1]}{(input.shape[2] != output.shape[2] ? " stride 2" : "")} @{input.shape[2]}x{input.shape[3]}{(conv.Precision == Model.Precision.Bf16 && input.shape[1] > 1 && output.shape[1] > 1 ? " bf16" : "")}",
        GroupNorm => $"GroupNorm {input.shape[1]} @{input.shape[2]}x{input.shape[3]}",
        Linear => $"linear {input.shape[^1]}→{output.shape[^1]}",
        _ => m.GetType().Name,
    };

    private static string Kernel(MixedConv2d conv)
    {
        var w = conv.parameters().First().shape;
        return $"{w[2]}x{w[3]}";
    }

    /// <summary>Median forward and backward milliseconds of one call alone; floating inputs get gradients as in training.</summary>
    private static (double Forward, double Backward) Time(Call call, int iterations)
    {
        var forward = new List<double>();
        var backward = new List<double>();
        for (int i = 0; i < Warmup + iterations; i++)
        {
            using var scope = NewDisposeScope();
            var inputs = call.Inputs.Select(a => a.is_floating_point() ? a.detach().requires_grad_(true) : a).ToArray();
            var clock = Stopwatch.StartNew();
            var output = call.Invoke(inputs);
            double f = clock.Elapsed.TotalMilliseconds;
            var grad = ones_like(output);
            clock.Restart();
            output.backward([grad]);
            double b = clock.Elapsed.TotalMilliseconds;
            if (i < Warmup) continue;
            forward.Add(f);
            backward.Add(b);
        }
        return (Stat.Of(forward).Median, Stat.Of(backward).Median);
    }
}
