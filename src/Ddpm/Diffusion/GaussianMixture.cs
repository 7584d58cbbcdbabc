using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// A mixture of K full-covariance Gaussians in C dimensions, fitted by expectation-maximisation (Dempster et al. 1977;
/// Bishop 2006, §9.2.2, eqs. 9.23–9.27). Cold diffusion's blur generation draws its start, the channel means of a fully
/// blurred image, from one fitted to the training images' channel means (Bansal et al.'s code: 10 components, full
/// covariance, tolerance 10⁻³). Stored in the checkpoint config as plain numbers.
/// </summary>
internal sealed record GaussianMixture
{
    public required double[] Weights { get; init; }
    /// <summary>[K][C].</summary>
    public required double[][] Means { get; init; }
    /// <summary>[K][C][C].</summary>
    public required double[][][] Covariances { get; init; }

    public int Components => Weights.Length;
    public int Dimensions => Means[0].Length;

    /// <summary>Added to every covariance's diagonal, as scikit-learn's <c>reg_covar</c>, so a tight cluster stays invertible.</summary>
    public const double Regularisation = 1e-6;

    /// <summary>
    /// EM from a deterministic start: means at the points of rank (k + ½)·N/K when sorted by their coordinate sum, every
    /// covariance the data's, equal weights; stops when the mean log-likelihood gains less than <paramref name="tolerance"/>.
    /// </summary>
    /// <param name="points">[N, C].</param>
    public static GaussianMixture Fit(Tensor points, int components = 10, double tolerance = 1e-3, int maxIterations = 500)
    {
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        long n = x.shape[0], c = x.shape[1];
        if (n < components) throw new DdpmException($"a {components}-component mixture needs at least {components} points, got {n}");
        var order = x.sum([1]).argsort();
        var picks = tensor(Enumerable.Range(0, components).Select(k => order[(long)((k + 0.5) * n / components)].item<long>()).ToArray());
        var means = x.index_select(0, picks);                                                       // [K, C]
        var centred = x - x.mean([0], keepdim: true);
        var covariances = (centred.T.matmul(centred) / n).unsqueeze(0).repeat(components, 1, 1); // [K, C, C]
        var weights = full(components, 1.0 / components, ScalarType.Float64);
        double previous = double.NegativeInfinity;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            using var step = NewDisposeScope();
            // E step (eq. 9.23): responsibilities γ_nk ∝ π_k N(x_n | μ_k, Σ_k).
            var logJoint = LogDensities(x, means, covariances) + weights.log().unsqueeze(0); // [N, K]
            var logLikelihood = logJoint.logsumexp(1, keepdim: true);
            var gamma = (logJoint - logLikelihood).exp();
            double meanLogLikelihood = logLikelihood.mean().item<double>();
            // M step (eqs. 9.24–9.27).
            var nk = gamma.sum([0]);                                                         // [K]
            var newMeans = gamma.T.matmul(x) / nk.unsqueeze(1);
            var d = x.unsqueeze(1) - newMeans.unsqueeze(0);                                // [N, K, C]
            var newCovariances = einsum("nk,nki,nkj->kij", gamma, d, d) / nk.view(-1, 1, 1)
                                 + eye(c, dtype: ScalarType.Float64) * Regularisation;
            means = newMeans.MoveToOuterDisposeScope();
            covariances = newCovariances.MoveToOuterDisposeScope();
            weights = (nk / n).MoveToOuterDisposeScope();
            if (meanLogLikelihood - previous < tolerance) break;
            previous = meanLogLikelihood;
        }
        return new GaussianMixture
        {
            Weights = weights.data<double>().ToArray(),
            Means = Rows(means),
            Covariances = Enumerable.Range(0, components).Select(k => Rows(covariances[k])).ToArray(),
        };
    }

    /// <summary>log N(x_n | μ_k, Σ_k) for every point and component, [N, K], through the Cholesky factor Σ = L Lᵀ.</summary>
    private static Tensor LogDensities(Tensor x, Tensor means, Tensor covariances)
    {
        long c = x.shape[1];
        var l = linalg.cholesky(covariances);                                                   // [K, C, C]
        var d = (x.unsqueeze(0) - means.unsqueeze(1)).unsqueeze(-1);                            // [K, N, C, 1]
        var z = linalg.solve_triangular(l.unsqueeze(1), d, upper: false).squeeze(-1);           // [K, N, C]
        var logDet = 2 * l.diagonal(dim1: -2, dim2: -1).log().sum([-1]);                          // [K]
        return (-0.5 * (z.pow(2).sum([-1]) + logDet.unsqueeze(1) + c * Math.Log(2 * Math.PI))).T;
    }

    /// <summary>n draws, [n, C] Float32: a component k ~ π, then μ_k + L_k z with z ~ N(0, I).</summary>
    public Tensor Sample(long n, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var k = multinomial(tensor(Weights), n, replacement: true, generator: generator);                    // [n]
        var means = tensor(Means.SelectMany(m => m).ToArray()).view(Components, Dimensions);
        var l = linalg.cholesky(tensor(Covariances.SelectMany(s => s.SelectMany(r => r)).ToArray()).view(Components, Dimensions, Dimensions));
        var z = randn([n, Dimensions, 1], dtype: ScalarType.Float64, generator: generator);
        var draws = means.index_select(0, k) + l.index_select(0, k).matmul(z).squeeze(-1);
        return draws.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private static double[][] Rows(Tensor matrix)
    {
        var m = matrix.contiguous();
        return Enumerable.Range(0, (int)m.shape[0]).Select(i => m[i].data<double>().ToArray()).ToArray();
    }
}
