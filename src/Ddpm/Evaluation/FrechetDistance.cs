using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>Mean and covariance of a feature set, in float64.</summary>
internal sealed class GaussianStats(Tensor mean, Tensor covariance) : IDisposable
{
    public Tensor Mean { get; } = mean;
    public Tensor Covariance { get; } = covariance;

    /// <param name="features">[N, D], N ≥ 2.</param>
    public static GaussianStats Of(Tensor features)
    {
        if (features.shape[0] < 2) throw new DdpmException("at least 2 samples are needed for a covariance");
        using var scope = NewDisposeScope();
        var f = features.to(ScalarType.Float64);
        var mean = f.mean([0]);
        var centred = f - mean;
        var cov = centred.t().matmul(centred) / (f.shape[0] - 1);
        return new GaussianStats(mean.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}

/// <summary>
/// Fréchet distance between Gaussians (Dowson &amp; Landau 1982; Heusel et al. 2017):
/// d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2}).
/// tr((Σ₁Σ₂)^{1/2}) is computed as tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}): the same eigenvalues, but of a symmetric
/// PSD matrix, so a symmetric eigendecomposition is exact where a general matrix square root is not.
/// </summary>
internal static class FrechetDistance
{
    public static double Compute(GaussianStats a, GaussianStats b)
    {
        using var scope = NewDisposeScope();
        var diff = a.Mean - b.Mean;
        var sqrtA = SqrtPsd(a.Covariance);
        var inner = sqrtA.matmul(b.Covariance).matmul(sqrtA);
        inner = (inner + inner.t()) / 2; // remove rounding asymmetry
        var (eigenvalues, _) = linalg.eigh(inner);
        double traceSqrt = eigenvalues.clamp_min(0).sqrt().sum().item<double>();
        double d2 = diff.dot(diff).item<double>() + a.Covariance.trace().item<double>() + b.Covariance.trace().item<double>() - 2 * traceSqrt;
        return Math.Max(d2, 0);
    }

    /// <summary>Square root of a symmetric positive semi-definite matrix by eigendecomposition.</summary>
    public static Tensor SqrtPsd(Tensor m)
    {
        var sym = (m + m.t()) / 2;
        var (values, vectors) = linalg.eigh(sym);
        return vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
    }
}
