using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Data;

/// <summary>
/// A labelled image set held in memory as one tensor [N, C, H, W] scaled to [-1, 1] (IDX files: C = 1; image folders: 1 or 3);
/// batches are drawn by indexing, never by re-reading files.
/// </summary>
internal sealed class ImageDataset : IDisposable
{
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Count => (int)Images.shape[0];
    public int Channels => (int)Images.shape[1];
    public int Height => (int)Images.shape[2];
    public int Width => (int)Images.shape[3];
    public string Source { get; }

    private ImageDataset(Tensor images, Tensor labels, string source)
    {
        Images = images;
        Labels = labels;
        Source = source;
    }

    /// <summary>The IDX split names used by MNIST and Fashion-MNIST.</summary>
    public static string FilePrefix(DatasetSplit split) => split == DatasetSplit.Train ? "train" : "t10k";

    /// <summary>Loads <c>{train|t10k}-images-idx3-ubyte[.gz]</c> and its labels from a folder.</summary>
    /// <param name="subset">Keep only the first N images (0 = all).</param>
    public static ImageDataset Load(string directory, DatasetSplit split = DatasetSplit.Train, int subset = 0)
    {
        directory = BundledFiles.Resolve(directory);
        if (!Directory.Exists(directory)) throw new DdpmException($"{directory}: data folder not found");
        var prefix = FilePrefix(split);
        var imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var images = IdxFile.Read(imagesPath, 3);
        var labels = IdxFile.Read(labelsPath, 1);
        if (images.Count != labels.Count)
            throw new DdpmException($"{imagesPath}: {images.Count} images but {labelsPath} has {labels.Count} labels");
        return FromBytes(images, labels, subset, directory);
    }

    public static ImageDataset FromBytes(IdxArray images, IdxArray labels, int subset, string source)
    {
        if (subset < 0) throw new DdpmException($"subset must be >= 0, got {subset}");
        int n = subset == 0 ? images.Count : Math.Min(subset, images.Count);
        int h = images.Dimensions[1], w = images.Dimensions[2];
        var pixels = images.Data.AsSpan(0, n * h * w).ToArray();
        var x = tensor(pixels, [n, 1, h, w], ScalarType.Byte).to(ScalarType.Float32).div_(127.5).sub_(1.0);
        var y = tensor(labels.Data.AsSpan(0, n).ToArray(), [n], ScalarType.Byte).to(ScalarType.Int64);
        return new ImageDataset(x.DetachFromDisposeScope(), y.DetachFromDisposeScope(), source);
    }

    /// <summary>Wraps existing tensors (copies them, so the dataset owns its own).</summary>
    public static ImageDataset FromTensors(Tensor images, Tensor labels, string source) =>
        new(images.clone().DetachFromDisposeScope(), labels.clone().DetachFromDisposeScope(), source);

    private static string Find(string directory, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        throw new DdpmException($"{Path.Combine(directory, stem)}[.gz]: file not found");
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

internal enum DatasetSplit { Train, Test }
