using Ddpm.Data;
using Ddpm.Evaluation;
using Ddpm.Imaging;
using static TorchSharp.torch;

namespace Ddpm;

/// <summary>
/// Scores images in the feature space of a classifier of their dataset (MNIST's is committed): FCD (the Fréchet distance of
/// Heusel et al. 2017 in that space), precision and recall (Kynkäänniemi et al. 2019, k = 3), confidence, class balance and,
/// for a conditional model, accuracy on the requested class; and the real-data floor to compare them with.
/// </summary>
public sealed class QualityEvaluator : IDisposable
{
    private readonly FeatureClassifier _classifier;
    private readonly ImageDataset _train;
    private readonly ImageDataset _test;
    private readonly SampleEvaluator _evaluator;

    /// <summary>The labelled data folder whose test images are the reference.</summary>
    public string Data { get; }
    /// <summary>Classes the classifier tells apart.</summary>
    public int ClassCount => _classifier.Classes;

    private QualityEvaluator(string data, FeatureClassifier classifier, ImageDataset train, ImageDataset test)
    {
        (Data, _classifier, _train, _test) = (data, classifier, train, test);
        _evaluator = new SampleEvaluator(classifier, test);
    }

    /// <summary>Opens the evaluator of a labelled dataset: its classifier (default data/evaluator/NAME-cnn.bin for data folder NAME,
    /// made with <c>ddpm eval train-classifier</c>) and its test images (an IDX test split, or a class folder's fixed 10 % hold-out).</summary>
    /// <param name="data">The labelled data folder.</param>
    /// <param name="classifier">Evaluator weights, or null for the default path.</param>
    /// <param name="model">If given, checked first: a one-line error unless the evaluator takes its images (size, channels, classes).</param>
    public static QualityEvaluator Open(string data = "data/mnist", string? classifier = null, DiffusionModel? model = null)
    {
        DdpmRuntime.Initialize();
        var cnn = FeatureClassifier.Load(classifier ?? FeatureClassifier.DefaultPath(data));
        try
        {
            if (model is not null) SampleEvaluator.CheckModel(cnn.Info, model.Config.Model, model.Info.CheckpointDirectory);
            var (train, test, _) = DataSources.LoadLabelledSplits(data, cnn.Info.ImageSize, cnn.Info.Channels);
            return new QualityEvaluator(data, cnn, train, test);
        }
        catch
        {
            cnn.Dispose();
            throw;
        }
    }

    /// <summary>Scores images [N, C, H, W] in [−1, 1]; <paramref name="requestedClasses"/> (one per image) adds the accuracy on the requested class.</summary>
    public QualityReport Score(string name, Tensor images, IReadOnlyList<int>? requestedClasses = null)
    {
        SampleEvaluator.CheckInput(_classifier.Info, images, name);
        using var labels = requestedClasses is null ? null : Sampling.Generation.AsTensor(requestedClasses);
        return _evaluator.Evaluate(name, images, labels);
    }

    /// <summary>Scores a model's images with the classes they were asked for.</summary>
    public QualityReport Score(string name, GeneratedImages images) => Score(name, images.Images, images.Labels);

    /// <summary>The real-data floor: <paramref name="n"/> training images scored like samples (FCD depends on N: compare at equal N).</summary>
    public QualityReport Floor(int n) => _evaluator.Reference(_train, n);

    /// <summary>Real images and degraded copies (blurred, shifted, noisy) scored at N: what the numbers mean.</summary>
    public IReadOnlyList<QualityReport> ReferenceTable(int n) => _evaluator.ReferenceTable(_train, n);

    /// <summary>Samples written earlier: an .npz (arr_0, N×H×W×C uint8) or a PNG grid written by <c>ddpm sample</c>, as [N, C, H, W] in [−1, 1].</summary>
    public Tensor ReadSamples(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? NpzReader.Load(path) : GridReader.Load(path, _classifier.Info.ImageSize, channels: _classifier.Info.Channels);

    /// <summary>Frees the classifier and the data.</summary>
    public void Dispose()
    {
        _evaluator.Dispose();
        _classifier.Dispose();
        _train.Dispose();
        _test.Dispose();
    }
}
