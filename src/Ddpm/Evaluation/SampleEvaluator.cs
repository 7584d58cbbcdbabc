using Ddpm.Data;
using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>
/// Scores images against a labelled test set (MNIST's, by default) with the evaluator classifier: FCD, precision/recall (k = 3),
/// confidence and class balance. Reference statistics are computed once per evaluator.
/// </summary>
internal sealed class SampleEvaluator : IDisposable
{
    public const int NearestNeighbours = 3;
    /// <summary>Seed of the fixed random order of the test set whose first N images are the real set for precision/recall.</summary>
    public const ulong ReferenceOrderSeed = 20221201;
    private readonly FeatureClassifier _classifier;
    private readonly GaussianStats _testStats;
    private readonly Tensor _testFeatures;
    private readonly Tensor _order;

    public FeatureClassifier Classifier => _classifier;

    public SampleEvaluator(FeatureClassifier classifier, ImageDataset testSet)
    {
        _classifier = classifier;
        CheckInput(classifier.Info, testSet.Images, testSet.Source);
        _classifier.eval();
        var (features, _) = Embed(testSet.Images);
        _testStats = GaussianStats.Of(features);
        // Precision/recall compare N samples with N real images: a fixed random subset of the test set, not its first N
        // (MNIST's test set is ordered: its first half is the cleaner one), the same in every run and on every machine.
        using var g = new Generator(ReferenceOrderSeed);
        _order = randperm(features.shape[0], generator: g).DetachFromDisposeScope();
        _testFeatures = features.index_select(0, _order).DetachFromDisposeScope();
        features.Dispose();
    }

    /// <summary>The test-set indices of the real images that N samples' precision and recall are measured against.</summary>
    public long[] ReferenceIndices(int n) => _order.narrow(0, 0, Math.Min(n, _order.shape[0])).data<long>().ToArray();

    /// <summary>A one-line error unless the images [N, C, S, S] are what the classifier was trained on.</summary>
    public static void CheckInput(ClassifierReport info, Tensor images, string what)
    {
        if (images.dim() != 4 || images.shape[1] != info.Channels || images.shape[2] != info.ImageSize || images.shape[3] != info.ImageSize)
        {
            var got = images.dim() == 4 ? $"{images.shape[2]}x{images.shape[3]} {(images.shape[1] == 1 ? "grayscale" : images.shape[1] == 3 ? "RGB" : $"{images.shape[1]}-channel")}" : $"[{string.Join(", ", images.shape)}]";
            throw new DdpmException($"{what}: the evaluator{(info.Data is null ? "" : $" (trained on {info.Data})")} takes {info.DescribeInput()} images, got {got}");
        }
    }

    /// <summary>A one-line error unless the classifier was trained on a model's image shape and classes.</summary>
    public static void CheckModel(ClassifierReport info, Model.UNetConfig model, string what)
    {
        if (model.ImageChannels != info.Channels || model.ImageSize != info.ImageSize)
            throw new DdpmException($"{what}: the model makes {model.ImageSize}x{model.ImageSize} {(model.ImageChannels == 1 ? "grayscale" : "RGB")} images, the evaluator{(info.Data is null ? "" : $" (trained on {info.Data})")} takes {info.DescribeInput()}; train one on the model's data with: ddpm eval train-classifier --data DIR");
        if (model.IsConditional && model.NumClasses != info.Classes)
            throw new DdpmException($"{what}: the model has {model.NumClasses} classes, the evaluator {info.Classes}: it was trained on another dataset");
    }

    /// <summary>Features [N, 128] and class probabilities [N, classes] of images [N, C, S, S] in [-1, 1].</summary>
    public (Tensor Features, Tensor Probabilities) Embed(Tensor images)
    {
        CheckInput(_classifier.Info, images, "samples");
        using var _ = no_grad();
        var features = new List<Tensor>();
        var probabilities = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += 500)
        {
            using var scope = NewDisposeScope();
            var f = _classifier.Features(images.narrow(0, start, Math.Min(500, images.shape[0] - start)).to(ScalarType.Float32));
            var p = nn.functional.softmax(_classifier.Classify(f), 1);
            features.Add(f.MoveToOuterDisposeScope());
            probabilities.Add(p.MoveToOuterDisposeScope());
        }
        return (cat(features, 0), cat(probabilities, 0));
    }

    /// <param name="labels">For samples of a conditional model: the class each image was generated as (int64 [N]).</param>
    public QualityReport Evaluate(string name, Tensor images, Tensor? labels = null)
    {
        long n = images.shape[0];
        images = images.cpu(); // the evaluator runs on the CPU, whatever device made the samples
        labels = labels?.cpu();
        if (n < NearestNeighbours + 2) throw new DdpmException($"at least {NearestNeighbours + 2} images are needed to evaluate, got {n}");
        using var scope = NewDisposeScope();
        var (features, probabilities) = Embed(images);
        using var stats = GaussianStats.Of(features);
        double fcd = FrechetDistance.Compute(stats, _testStats);
        // Equal-sized sets for the k-NN manifolds, as in Kynkäänniemi et al.
        var real = _testFeatures.narrow(0, 0, Math.Min(n, _testFeatures.shape[0]));
        var (precision, recall) = PrecisionRecall.Compute(real, features, NearestNeighbours);

        var top = probabilities.max(1).values;
        var counts = probabilities.argmax(1).bincount(null, _classifier.Classes).data<long>().Select(c => (int)c).ToArray();
        double entropy = 0;
        foreach (var c in counts.Where(c => c > 0))
        {
            double p = (double)c / n;
            entropy -= p * Math.Log(p);
        }
        double? accuracy = null;
        double[]? perClass = null;
        if (labels is not null)
        {
            if (labels.shape[0] != n) throw new ArgumentException($"{labels.shape[0]} labels for {n} images", nameof(labels));
            var correct = probabilities.argmax(1).eq(labels).to(ScalarType.Float32);
            accuracy = correct.mean().item<float>();
            var hits = correct.data<float>().ToArray();
            var asked = labels.data<long>().ToArray();
            perClass = Enumerable.Range(0, _classifier.Classes).Select(c =>
            {
                var of = Enumerable.Range(0, (int)n).Where(i => asked[i] == c).ToList();
                return of.Count == 0 ? double.NaN : of.Average(i => (double)hits[i]);
            }).ToArray();
        }
        return new QualityReport
        {
            Name = name,
            ConditionalAccuracy = accuracy,
            AccuracyPerClass = perClass,
            N = (int)n,
            Fcd = fcd,
            Precision = precision,
            Recall = recall,
            MeanConfidence = top.mean().item<float>(),
            ConfidentFraction = top.gt(0.9).to(ScalarType.Float32).mean().item<float>(),
            ClassCounts = counts,
            ClassEntropy = entropy / Math.Log(_classifier.Classes),
        };
    }

    /// <summary>The floor a perfect model reaches at this N: N real training images scored the same way.</summary>
    public QualityReport Reference(ImageDataset train, int n, long seed = 0)
    {
        using var scope = NewDisposeScope();
        var real = RealSubset(train, n, seed);
        return Evaluate($"real train images (N = {real.shape[0]})", real);
    }

    /// <summary>
    /// What the numbers mean: N real training images, and the same images blurred (5×5 box filter), shifted
    /// by 4 pixels right and down, and uniform noise. A model should score near the first row.
    /// </summary>
    public IReadOnlyList<QualityReport> ReferenceTable(ImageDataset train, int n, long seed = 0)
    {
        using var scope = NewDisposeScope();
        var real = RealSubset(train, n, seed);
        using var g = new Generator((ulong)seed + 2);
        return
        [
            Evaluate($"real train images (N = {real.shape[0]})", real),
            Evaluate("real, 5x5 box blur", nn.functional.avg_pool2d(real, 5, stride: 1, padding: 2, count_include_pad: false)),
            Evaluate("real, shifted 4 px", real.roll([4, 4], [2, 3])),
            Evaluate("uniform noise", rand(real.shape, generator: g) * 2 - 1),
        ];
    }

    private static Tensor RealSubset(ImageDataset train, int n, long seed)
    {
        using var g = new Generator((ulong)seed + 1);
        var idx = randperm(train.Count, generator: g).narrow(0, 0, Math.Min(n, train.Count));
        return train.Images.index_select(0, idx);
    }

    public void Dispose()
    {
        _testStats.Dispose();
        _testFeatures.Dispose();
        _order.Dispose();
    }
}
