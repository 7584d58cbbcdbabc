using static TorchSharp.torch;

namespace Ddpm.Data;

/// <summary>A loaded data folder: the images, whether they carry labels, the class names, and what was skipped or looks wrong.</summary>
/// <param name="ClassNames">Label i's name (empty: the labels are their own names, as MNIST's digits, or there are none).</param>
/// <param name="Warnings">Problems training can go on with (e.g. a class of one image).</param>
internal sealed record LoadedData(ImageDataset Data, bool Labelled, IReadOnlyList<string> ClassNames,
    IReadOnlyList<(string File, string Reason)> Skipped, IReadOnlyList<string> Warnings)
{
    /// <summary>The number of classes K of labelled data, whose labels must be 0..K−1 with every one present (a one-line error otherwise).</summary>
    public int ClassCount()
    {
        if (!Labelled) throw new DdpmException($"{Data.Source}: the images have no labels (class folders or IDX label files)");
        long[] counts;
        using (var bins = Data.Labels.bincount(null)) counts = bins.data<long>().ToArray();
        var missing = Enumerable.Range(0, counts.Length).Where(c => counts[c] == 0).ToList();
        if (missing.Count > 0)
            throw new DdpmException($"{Data.Source}: the labels go up to {counts.Length - 1} but {missing.Count} value(s) below it never occur (first: {missing[0]}); " +
                                    $"a conditional model needs labels 0..K-1 with every class present");
        return counts.Length;
    }
}

/// <summary>What <c>--data DIR</c> names: IDX files (MNIST, Fashion-MNIST) when the folder has them, else a folder of images.</summary>
internal static class DataSources
{
    /// <summary>The part of a labelled image folder held out as the evaluator's test set (a folder has no test split).</summary>
    public const double HoldoutFraction = 0.1;
    public const ulong HoldoutSeed = 20261201;

    /// <param name="imageSize">Image folders: the side to resize and centre-crop to (null = the images' own common size).</param>
    /// <param name="channels">Image folders: 1 or 3 (null = 1 when every image is grayscale).</param>
    public static LoadedData Load(string directory, DatasetSplit split = DatasetSplit.Train, int subset = 0, int? imageSize = null, int? channels = null)
    {
        directory = BundledFiles.Resolve(directory);
        if (!Directory.Exists(directory)) throw new DdpmException($"{directory}: data folder not found");
        if (IsIdx(directory) || !ImageFolder.HasImages(directory))
        {
            var data = ImageDataset.Load(directory, split, subset);
            return new(data, true, Identify(data, split)?.ClassNames ?? [], [], []);
        }
        if (split != DatasetSplit.Train) throw new DdpmException($"{directory}: an image folder has no test split");
        var folder = ImageFolder.Load(directory, imageSize, channels, subset);
        return new(folder.Data, folder.ClassNames.Count > 0, folder.ClassNames, folder.Skipped, folder.Warnings);
    }

    /// <summary>
    /// The labelled train and test sets the evaluator is trained and scored on: an IDX folder's two splits, or a labelled image
    /// folder split at random (fixed seed) into 1 − <see cref="HoldoutFraction"/> and <see cref="HoldoutFraction"/>.
    /// Unlabelled data is a one-line error: FCD lives in a classifier's feature space, which needs labels.
    /// </summary>
    public static (ImageDataset Train, ImageDataset Test, IReadOnlyList<string> ClassNames) LoadLabelledSplits(string directory, int? imageSize = null, int? channels = null)
    {
        directory = BundledFiles.Resolve(directory);
        var train = Load(directory, DatasetSplit.Train, 0, imageSize, channels);
        if (!train.Labelled)
        {
            train.Data.Dispose();
            throw new DdpmException($"{directory}: FCD, the evaluator and its classes need labelled images (class folders or IDX label files); this folder has none " +
                                    "(precision/recall of raw pixels would be no substitute)");
        }
        if (IsIdx(directory)) return (train.Data, ImageDataset.Load(directory, DatasetSplit.Test), train.ClassNames);
        using var all = train.Data;
        if (all.Count < 2) throw new DdpmException($"{directory}: {all.Count} image(s) cannot be split into a training and a test set");
        using var scope = NewDisposeScope();
        using var g = new Generator(HoldoutSeed);
        var order = randperm(all.Count, generator: g);
        int nTest = Math.Max(1, (int)Math.Round(all.Count * HoldoutFraction));
        var testIdx = order.narrow(0, 0, nTest);
        var trainIdx = order.narrow(0, nTest, all.Count - nTest);
        return (ImageDataset.FromTensors(all.Images.index_select(0, trainIdx), all.Labels.index_select(0, trainIdx), directory),
                ImageDataset.FromTensors(all.Images.index_select(0, testIdx), all.Labels.index_select(0, testIdx), $"{directory} (held-out {HoldoutFraction:P0})"),
                train.ClassNames);
    }

    /// <summary>The test set of <see cref="LoadLabelledSplits"/> alone: an IDX folder's test split is read without its training split.</summary>
    public static ImageDataset LoadTestSet(string directory, int? imageSize = null, int? channels = null)
    {
        directory = BundledFiles.Resolve(directory);
        if (Directory.Exists(directory) && IsIdx(directory)) return ImageDataset.Load(directory, DatasetSplit.Test);
        var (train, test, _) = LoadLabelledSplits(directory, imageSize, channels);
        train.Dispose();
        return test;
    }

    /// <summary>Whether the folder holds IDX image files ({train|t10k}-images-idx3-ubyte[.gz]).</summary>
    public static bool IsIdx(string directory) =>
        Directory.EnumerateFiles(directory, "*-images-idx3-ubyte*").Any();

    private static KnownDatasets.Known? Identify(ImageDataset data, DatasetSplit split)
    {
        using var first = data.Labels.narrow(0, 0, Math.Min(12, data.Count)).to(ScalarType.Byte);
        return KnownDatasets.Identify(first.data<byte>().ToArray(), split);
    }
}
