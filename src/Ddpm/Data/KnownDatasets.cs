namespace Ddpm.Data;

/// <summary>
/// IDX datasets told apart by content (their file names are the same): the first labels of each split identify MNIST and
/// Fashion-MNIST, which gives the class names (Xiao et al. 2017, Table 1 of the Fashion-MNIST paper).
/// </summary>
internal static class KnownDatasets
{
    public sealed record Known(string Name, IReadOnlyList<string>? ClassNames, byte[] TrainStart, byte[] TestStart);

    public static readonly Known Mnist = new("MNIST", null, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6]);

    public static readonly Known FashionMnist = new("Fashion-MNIST",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5]);

    private static readonly Known[] All = [Mnist, FashionMnist];

    /// <summary>The dataset whose split starts with these labels (at least 10 of them), or null.</summary>
    public static Known? Identify(ReadOnlySpan<byte> labels, DatasetSplit split)
    {
        if (labels.Length < 10) return null;
        foreach (var known in All)
        {
            var start = split == DatasetSplit.Train ? known.TrainStart : known.TestStart;
            int n = Math.Min(start.Length, labels.Length);
            if (labels[..n].SequenceEqual(start.AsSpan(0, n))) return known;
        }
        return null;
    }
}
