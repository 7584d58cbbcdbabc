using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of balls
/// around its points with radius = distance to the k-th nearest neighbour within the set.
/// Precision: fraction of generated points inside the real manifold; recall: fraction of real points
/// inside the generated manifold.
/// </summary>
internal static class PrecisionRecall
{
    public static (double Precision, double Recall) Compute(Tensor real, Tensor generated, int k = 3)
    {
        if (real.shape[0] <= k || generated.shape[0] <= k)
            throw new DdpmException($"precision/recall need more than k = {k} samples in each set");
        using var scope = NewDisposeScope();
        var r = real.to(ScalarType.Float64);
        var g = generated.to(ScalarType.Float64);
        return (Coverage(g, r, k), Coverage(r, g, k));
    }

    /// <summary>Fraction of <paramref name="queries"/> within the k-NN radius of some point of <paramref name="manifold"/>.</summary>
    private static double Coverage(Tensor queries, Tensor manifold, int k)
    {
        var radii = KnnRadii(manifold, k);
        long inside = 0;
        for (long start = 0; start < queries.shape[0]; start += 1024)
        {
            using var scope = NewDisposeScope();
            var q = queries.narrow(0, start, Math.Min(1024, queries.shape[0] - start));
            var d = cdist(q, manifold);                        // [q, m]
            inside += d.le(radii.unsqueeze(0)).any(1).sum().item<long>();
        }
        return (double)inside / queries.shape[0];
    }

    /// <summary>Distance from each point to its k-th nearest neighbour in the same set (itself excluded).</summary>
    private static Tensor KnnRadii(Tensor points, int k)
    {
        var radii = new List<Tensor>();
        for (long start = 0; start < points.shape[0]; start += 1024)
        {
            var p = points.narrow(0, start, Math.Min(1024, points.shape[0] - start));
            var d = cdist(p, points);
            // k + 1 smallest: the first is the point itself at distance 0.
            radii.Add(d.topk(k + 1, dim: 1, largest: false).values[.., k]);
        }
        return cat(radii, 0);
    }
}
