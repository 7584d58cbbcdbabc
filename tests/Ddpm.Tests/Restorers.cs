using Ddpm.Data;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>A restorer that always answers the true x_0: cold samplers must then telescope back to it.</summary>
internal sealed class OracleRestorer(Tensor x0) : nn.Module<Tensor, Tensor, Tensor>("oracle")
{
    public override Tensor forward(Tensor x, Tensor t) => x0 * 1;
}

/// <summary>A restorer that answers its input: a flat start stays flat at its own level.</summary>
internal sealed class IdentityRestorer() : nn.Module<Tensor, Tensor, Tensor>("identity")
{
    public override Tensor forward(Tensor x, Tensor t) => x * 1;
}

internal static class TestDigits
{
    /// <summary>The first n MNIST training images, [n, 1, 28, 28] in [-1, 1], outside any dispose scope.</summary>
    public static Tensor First(int n)
    {
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, n);
        return data.Images.clone().DetachFromDisposeScope();
    }
}
