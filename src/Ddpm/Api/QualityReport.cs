namespace Ddpm;

/// <summary>Sample-quality metrics of one set of images, all in the evaluator classifier's feature space.</summary>
public sealed record QualityReport
{
    /// <summary>What was scored, e.g. "run, w = 0.5".</summary>
    public required string Name { get; init; }
    /// <summary>Number of images scored.</summary>
    public required int N { get; init; }
    /// <summary>Fréchet distance to the test set's features in the classifier's space (FCD). Depends on N: compare at equal N.</summary>
    public required double Fcd { get; init; }
    /// <summary>Fraction of the images inside the k-NN balls (k = 3) of the real test images (Kynkäänniemi et al. 2019): fidelity.</summary>
    public required double Precision { get; init; }
    /// <summary>Fraction of N real test images inside the k-NN balls of the images: variety.</summary>
    public required double Recall { get; init; }
    /// <summary>Mean of the top-class softmax probability.</summary>
    public required double MeanConfidence { get; init; }
    /// <summary>Fraction of images classified with p &gt; 0.9.</summary>
    public required double ConfidentFraction { get; init; }
    /// <summary>How many images the classifier assigns to each digit 0..9.</summary>
    public required int[] ClassCounts { get; init; }
    /// <summary>Entropy of the predicted-class histogram over ln 10: 1 = all ten digits equally often.</summary>
    public required double ClassEntropy { get; init; }
    /// <summary>Samples of a conditional model: fraction the classifier assigns to the class they were asked for.</summary>
    public double? ConditionalAccuracy { get; init; }
    /// <summary>The same per requested class 0..9 (NaN for a class not requested).</summary>
    public double[]? AccuracyPerClass { get; init; }
}
