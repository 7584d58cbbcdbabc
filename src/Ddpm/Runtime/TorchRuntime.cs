using System.Runtime.InteropServices;
using TorchSharp;

namespace Ddpm.Runtime;

/// <summary>Process-wide native setup that must run before the first tensor is created.</summary>
internal static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;

    /// <summary>Whether glibc's allocator thresholds were raised (see <see cref="Initialize"/>).</summary>
    public static bool AllocatorTuned { get; private set; }

    /// <param name="threads">Intra-op threads; 0 keeps libtorch's default.</param>
    public static void Initialize(int threads = 0)
    {
        lock (Gate)
        {
            if (!_initialized)
            {
                AllocatorTuned = TuneGlibcMalloc();
                _ = torch.zeros(1); // loads libtorch so the symbols below resolve
                DisableNnpack();
                _initialized = true;
            }
            if (threads > 0) torch.set_num_threads(threads);
        }
    }

    // With glibc's defaults every activation-sized buffer is mmapped and unmapped per step: tens of
    // thousands of page faults per training step, measured at 1.5-4x slower steps on this machine.
    // Keeping freed memory in the heap removes them. DDPM_MALLOC_TUNING=0 turns this off for A/B runs.
    private static bool TuneGlibcMalloc()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("DDPM_MALLOC_TUNING") == "0") return false;
        try
        {
            const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;
            bool ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1; // glibc's maximum on 64-bit
            ok &= mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): nothing to tune
        }
    }

    /// <summary>
    /// Hands the memory that the allocators keep for reuse back to the system: the .NET GC heap (an aggressive, compacting
    /// collection) and, where <see cref="AllocatorTuned"/> stopped glibc from trimming by itself, the free pages of its heap
    /// (<c>malloc_trim(0)</c>). Without it resident memory creeps up as freed activation buffers accumulate; the next step
    /// pays a few page faults to take back what it needs. Call it between steps, never while tensors are being built.
    /// </summary>
    public static void ReturnFreeMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!AllocatorTuned) return;
        try { _ = malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    // This CPU is unknown to NNPACK, and libtorch retries its initialisation on every convolution,
    // printing "Could not initialize NNPACK" each time. Switching it off is what PyTorch's
    // torch.backends.nnpack.set_flags(False) does; TorchSharp has no binding for it.
    private static void DisableNnpack()
    {
        try { SetUserEnabledNnpack(GlobalContext(), false); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
