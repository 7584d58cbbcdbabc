namespace Ddpm.Evaluation;

/// <summary>Sample-quality metrics of one set of images, all in the evaluator classifier's feature space.</summary>
public sealed record QualityReport
{
    public required string Name { get; init; }
    public required int N { get; init; }
    /// <summary>Fréchet distance to the MNIST test set's features (FCD). Depends on N: compare at equal N.</summary>
    public required double Fcd { get; init; }
    public required double Precision { get; init; }
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
