using Ddpm.Data;
using Ddpm.Evaluation;
using Ddpm.Imaging;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class EvaluationTests
{
    public EvaluationTests() => TestSupport.Init();

    private static string ClassifierPath => Path.Combine(TestSupport.RepoRoot, "data", "evaluator", "mnist-cnn.bin");

    [Fact]
    public void Frechet_distance_of_a_set_with_itself_is_zero_and_is_symmetric()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        var a = randn(500, 6) * 2 + 1;
        var b = randn(400, 6).matmul(randn(6, 6)) - 0.5;
        using var sa = GaussianStats.Of(a);
        using var sb = GaussianStats.Of(b);
        Assert.Equal(0, FrechetDistance.Compute(sa, sa), 8);
        Assert.Equal(FrechetDistance.Compute(sa, sb), FrechetDistance.Compute(sb, sa), 8);
        Assert.True(FrechetDistance.Compute(sa, sb) > 1);
    }

    [Fact]
    public void Frechet_distance_of_known_gaussians_matches_the_closed_form()
    {
        using var scope = NewDisposeScope();
        // Σ₁ = 2I and Σ₂ = R diag(1, 4, 9) Rᵀ with a rotation R: (Σ₁Σ₂)^{1/2} = √2 Σ₂^{1/2}, tr = √2 (1 + 2 + 3).
        double c = Math.Cos(0.7), s = Math.Sin(0.7);
        var rotation = tensor(new double[] { c, -s, 0, s, c, 0, 0, 0, 1 }).reshape(3, 3);
        var cov2 = rotation.matmul(diag(tensor(new double[] { 1, 4, 9 }))).matmul(rotation.t());
        using var a = new GaussianStats(tensor(new double[] { 0, 0, 0 }), eye(3, dtype: ScalarType.Float64) * 2);
        using var b = new GaussianStats(tensor(new double[] { 1, 2, 2 }), cov2);
        double expected = 9 + (6 + 14) - 2 * Math.Sqrt(2) * 6;
        Assert.Equal(expected, FrechetDistance.Compute(a, b), 9);
    }

    [Fact]
    public void Frechet_distance_with_non_commuting_covariances_matches_a_hand_computed_value()
    {
        using var scope = NewDisposeScope();
        // Σ₁ = [[2, 1], [1, 2]] and Σ₂ = diag(1, 4) do not commute (Σ₁Σ₂ = [[2, 4], [1, 8]] ≠ Σ₂Σ₁). For 2×2 matrices whose
        // product has positive eigenvalues λ₁, λ₂: tr (Σ₁Σ₂)^{1/2} = √λ₁ + √λ₂ = √(tr Σ₁Σ₂ + 2 √det Σ₁Σ₂) = √(10 + 2√12).
        // With ‖μ₁ − μ₂‖² = 5 and tr Σ₁ + tr Σ₂ = 9: d² = 14 − 2√(10 + 2√12), by bc -l to 20 digits 5.77122044765434023624.
        // The usual bug tr(Σ₁^{1/2} Σ₂^{1/2}) = 1.5 (√3 + 1) gives 5.80384757729336811944 instead.
        using var a = new GaussianStats(tensor(new double[] { 0, 0 }), tensor(new double[] { 2, 1, 1, 2 }).reshape(2, 2));
        using var b = new GaussianStats(tensor(new double[] { 1, -2 }), tensor(new double[] { 1, 0, 0, 4 }).reshape(2, 2));
        Assert.Equal(5.77122044765434023624, FrechetDistance.Compute(a, b), 10);
        Assert.Equal(5.77122044765434023624, FrechetDistance.Compute(b, a), 10);
    }

    [Fact]
    public void Precision_and_recall_are_one_for_identical_sets_and_zero_for_far_apart_sets()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        var x = randn(200, 8);
        var (p, r) = PrecisionRecall.Compute(x, x.clone());
        Assert.Equal((1.0, 1.0), (p, r));
        var (p2, r2) = PrecisionRecall.Compute(x, randn(150, 8) + 100);
        Assert.Equal((0.0, 0.0), (p2, r2));
    }

    [Fact]
    public void Precision_and_recall_match_k_nearest_neighbour_radii_computed_by_hand()
    {
        using var scope = NewDisposeScope();
        // On a line, k = 3. Real {0, 1, 2, 3, 20, 21, 22, 23}: 3rd-neighbour radii 3, 2, 2, 3 in each cluster, so the real
        // manifold is [−3, 6] ∪ [17, 26]. Generated {0.5, 1.5, 2.5, 5, 10, 11, 12}: radii 4.5, 3.5, 2.5, 4.5, 5, 6, 7, so
        // its manifold is [−4, 19]. Precision: 0.5, 1.5, 2.5 and 5 lie in the real manifold, 10, 11 and 12 do not: 4/7.
        // Recall: 0..3 lie in the generated manifold, 20..23 do not: 4/8.
        var real = tensor(new double[] { 0, 1, 2, 3, 20, 21, 22, 23 }).reshape(-1, 1);
        var generated = tensor(new double[] { 0.5, 1.5, 2.5, 5, 10, 11, 12 }).reshape(-1, 1);
        var (precision, recall) = PrecisionRecall.Compute(real, generated, k: 3);
        Assert.Equal(4.0 / 7, precision, 12);
        Assert.Equal(0.5, recall, 12);
    }

    [Fact]
    public void Bundled_classifier_classifies_the_mnist_test_set_at_99_percent()
    {
        // The last 3,000 test images (the harder half of MNIST's test set): the full pass is in mnist-cnn.json.
        using var classifier = FeatureClassifier.Load(ClassifierPath);
        using var all = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test);
        using var slice = ImageDataset.FromTensors(all.Images.narrow(0, 7000, 3000), all.Labels.narrow(0, 7000, 3000), "test[7000..]");
        Assert.True(ClassifierTraining.Accuracy(classifier, slice) >= 0.99);
    }

    [Fact]
    public void Precision_and_recall_compare_against_a_fixed_random_subset_of_the_test_set()
    {
        using var classifier = FeatureClassifier.Load(ClassifierPath);
        using var test = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test);
        using var a = new SampleEvaluator(classifier, test);
        using var b = new SampleEvaluator(classifier, test);
        var idx = a.ReferenceIndices(1000);
        Assert.Equal(idx, b.ReferenceIndices(1000));                  // the same in every evaluator
        Assert.Equal(1000, idx.Distinct().Count());
        Assert.NotEqual(Enumerable.Range(0, 1000).Select(i => (long)i), idx);
        // Drawn from the whole set: about half from each half of the 10,000 (binomial s.d. 16).
        Assert.InRange(idx.Count(i => i >= 5000), 430, 570);
        Assert.Equal(idx.Take(100), a.ReferenceIndices(100));           // a smaller N uses a prefix of the same order
    }

    /// <summary>Reference numbers quoted in the README come from this ordering.</summary>
    [Fact]
    public void Real_images_score_far_below_noise_blurred_and_shifted_copies()
    {
        using var classifier = FeatureClassifier.Load(ClassifierPath);
        using var test = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test, 3000);
        using var train = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train, 500);
        using var evaluator = new SampleEvaluator(classifier, test);
        var table = evaluator.ReferenceTable(train, 500);
        var (real, blurred, shifted, noise) = (table[0], table[1], table[2], table[3]);
        Assert.Equal(500, real.N);
        Assert.True(noise.Fcd > 10 * real.Fcd, $"noise {noise.Fcd} vs real {real.Fcd}");
        Assert.True(blurred.Fcd > 3 * real.Fcd, $"blur {blurred.Fcd} vs real {real.Fcd}");
        Assert.True(shifted.Fcd > 3 * real.Fcd, $"shift {shifted.Fcd} vs real {real.Fcd}");
        Assert.True(real.Precision > 0.6 && real.Recall > 0.6);
        Assert.True(real.ClassEntropy > 0.98);
        Assert.True(real.MeanConfidence > 0.97);
    }

    [Fact]
    public void Npz_round_trip_and_bad_arrays_are_clear_errors()
    {
        using var scope = NewDisposeScope();
        var dir = TestSupport.TempDir();
        var images = (arange(3 * 784, dtype: ScalarType.Float32).reshape(3, 1, 28, 28).remainder(256) / 127.5 - 1).to(ScalarType.Float32);
        var path = Path.Combine(dir, "a.npz");
        NpzWriter.Save(images, path);
        Assert.True(NpzReader.Load(path).allclose(images, atol: 1e-6));

        byte[] Npy(string dict, int dataBytes) => [.. NpzWriterHeader(dict), .. new byte[dataBytes]];
        Assert.Contains("dtype '<f4', expected uint8",
            Assert.Throws<DdpmException>(() => NpzReader.Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 28, 28, 1), }", 2 * 784 * 4), "x.npz")).Message);
        Assert.Contains("shape (2, 32, 32, 2), expected (N, H, W, C) with C = 1 or 3",
            Assert.Throws<DdpmException>(() => NpzReader.Parse(Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 32, 32, 2), }", 2 * 32 * 32 * 2), "x.npz")).Message);
        Assert.Contains("declares 1568 bytes but holds 10",
            Assert.Throws<DdpmException>(() => NpzReader.Parse(Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 28, 28, 1), }", 10), "x.npz")).Message);
        File.WriteAllText(Path.Combine(dir, "not.npz"), "hello");
        Assert.Contains("not a .npz (zip) file", Assert.Throws<DdpmException>(() => NpzReader.Load(Path.Combine(dir, "not.npz"))).Message);
    }

    private static byte[] NpzWriterHeader(string dict)
    {
        var header = dict + "\n";
        return [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0, .. System.Text.Encoding.ASCII.GetBytes(header)];
    }

    [Fact]
    public void Grid_round_trip_at_any_scale_and_bad_grids_are_clear_errors()
    {
        using var scope = NewDisposeScope();
        var dir = TestSupport.TempDir();
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test, 7);
        foreach (var scale in new[] { 1, 2, 3 })
        {
            var path = Path.Combine(dir, $"g{scale}.png");
            ImageGrid.Save(data.Images, path, columns: 4, scale: scale);
            var back = GridReader.Load(path);
            Assert.Equal(new long[] { 7, 1, 28, 28 }, back.shape);
            Assert.True(back.sub(data.Images).abs().max().item<float>() <= 1 / 127.5f + 1e-6f);
        }
        var odd = Path.Combine(dir, "odd.png");
        using (var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(50, 50))
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, odd);
        Assert.Contains("50x50 pixels is not a whole number of 28x28 tiles", Assert.Throws<DdpmException>(() => GridReader.Load(odd)).Message);
        File.WriteAllText(Path.Combine(dir, "text.png"), "not an image");
        Assert.Contains("not a readable image", Assert.Throws<DdpmException>(() => GridReader.Load(Path.Combine(dir, "text.png"))).Message);
    }
}
