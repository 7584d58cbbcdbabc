namespace Ddpm.Runtime;

/// <summary>What the CPU can do natively, from /proc/cpuinfo (Linux); elsewhere nothing is assumed.</summary>
internal static class CpuFeatures
{
    private static readonly Lazy<HashSet<string>> Flags = new(ReadFlags);

    /// <summary>AVX512_BF16 or AMX-BF16: bf16 dot products in hardware.</summary>
    public static bool HasNativeBf16 => Flags.Value.Contains("avx512_bf16") || Flags.Value.Contains("amx_bf16");

    private static HashSet<string> ReadFlags()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return line is null ? [] : [.. line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
