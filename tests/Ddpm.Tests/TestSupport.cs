using Ddpm.Runtime;

namespace Ddpm.Tests;

/// <summary>Native setup once per test run, and paths to the bundled data.</summary>
internal static class TestSupport
{
    // One intra-op thread: the tests use tiny tensors, where threads cost more than they give,
    // and two OpenMP pools on two cores (tests beside a training run) slow both down many times.
    static TestSupport() => TorchRuntime.Initialize(threads: 1);

    public static void Init() { }

    public static string RepoRoot { get; } = FindRoot();

    public static string MnistDir => Path.Combine(RepoRoot, "data", "mnist");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ddpm.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Ddpm.sln) not found");
    }

    public static string TempDir()
    {
        var path = Path.Combine(Path.GetTempPath(), "ddpm-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// The same 8-bit images up to bf16 rounding: no pixel more than one level of 255 apart and at most 2 % of them apart at
    /// all. bf16 sums of products round differently in another convolution layout or order; anything that changed what is
    /// computed (a step, a coefficient, the noise) moves many pixels by many levels.
    /// </summary>
    public static void AssertSameImagesUpToRounding(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var differences = expected.Zip(actual).Select(p => Math.Abs(p.First - p.Second)).ToArray();
        Assert.True(differences.Max() <= 1 && differences.Count(d => d > 0) <= differences.Length / 50,
            $"images differ: max {differences.Max()} levels, {differences.Count(d => d > 0)} of {differences.Length} pixels");
    }
}
