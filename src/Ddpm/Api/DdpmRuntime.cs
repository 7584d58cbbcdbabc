namespace Ddpm;

/// <summary>Process-wide native settings of libtorch for ddpm.</summary>
public static class DdpmRuntime
{
    /// <summary>
    /// Loads libtorch with ddpm's settings (glibc's allocator keeps freed memory, NNPACK off) and sets the intra-op threads
    /// (0 = libtorch's default). <see cref="DiffusionModel.Load"/>, <see cref="TrainingRun"/> and <see cref="QualityEvaluator"/> call it
    /// themselves; call it first, before any tensor of your own, to get the allocator setting for all of them. Safe to call again.
    /// </summary>
    public static void Initialize(int threads = 0) => Runtime.TorchRuntime.Initialize(threads);
}
