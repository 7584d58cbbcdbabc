namespace Ddpm.Data;

/// <summary>What <c>--data DIR</c> names: IDX files (MNIST, Fashion-MNIST) when the folder has them, else a folder of images.</summary>
public static class DataSources
{
    /// <param name="imageSize">Image folders: the side to resize and centre-crop to (null = the images' own common size).</param>
    /// <param name="channels">Image folders: 1 or 3 (null = 1 when every image is grayscale).</param>
    public static ImageFolder.Result Load(string directory, DatasetSplit split = DatasetSplit.Train, int subset = 0, int? imageSize = null, int? channels = null)
    {
        if (!Directory.Exists(directory)) throw new DdpmException($"{directory}: data folder not found");
        if (IsIdx(directory) || !ImageFolder.HasImages(directory)) return new(ImageDataset.Load(directory, split, subset), [], []);
        if (split != DatasetSplit.Train) throw new DdpmException($"{directory}: an image folder has no test split (the evaluator needs labelled IDX test files)");
        return ImageFolder.Load(directory, imageSize, channels, subset);
    }

    /// <summary>Whether the folder holds IDX image files ({train|t10k}-images-idx3-ubyte[.gz]).</summary>
    public static bool IsIdx(string directory) =>
        Directory.EnumerateFiles(directory, "*-images-idx3-ubyte*").Any();
}
