using Ddpm.Imaging;
using static TorchSharp.torch;

namespace Ddpm.Model;

/// <summary>
/// Fixed inputs and the network's outputs for them, as an .npz of <c>x</c>, <c>t</c>, <c>labels</c> (conditional networks) and
/// <c>output</c>: a port of the network that loads the exported weights (bench/peer/peer.py, or a user's PyTorch code) must
/// reproduce <c>output</c> from the other arrays. The inputs span the steps (1, T/4, T/2, T) and, for a conditional network, the
/// classes and the null class ∅.
/// </summary>
internal static class NetworkProbe
{
    public const int Count = 4;

    public static void Write(UNet network, int timesteps, string path)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var generator = new Generator(0);
        var c = network.Config;
        var x = randn([Count, c.ImageChannels, c.ImageSize, c.ImageSize], generator: generator);
        var t = tensor(new long[] { 1, Math.Max(1, timesteps / 4), Math.Max(1, timesteps / 2), timesteps });
        var labels = c.IsConditional
            ? tensor(Enumerable.Range(0, Count).Select(i => i == Count - 1 ? (long)network.NullClass : i % c.NumClasses).ToArray())
            : null;
        bool wasTraining = network.training;
        network.eval();
        var device = network.parameters().First().device;
        Tensor output;
        try { output = network.Forward(x.to(device), t.to(device), labels?.to(device)); }
        finally { network.train(wasTraining); }
        var arrays = new List<(string, Tensor)> { ("x", x), ("t", t) };
        if (labels is not null) arrays.Add(("labels", labels));
        arrays.Add(("output", output));
        NpzWriter.SaveArrays(path, arrays);
    }
}
