namespace Ddpm.Model;

/// <summary>Compute precision of the convolutions. Weights, optimizer state, normalisation and the loss are always fp32.</summary>
internal enum Precision
{
    Fp32,
    /// <summary>bfloat16 convolutions with fp32 master weights (hand-written mixed precision: TorchSharp 0.107 has no autocast).</summary>
    Bf16,
}

internal static class PrecisionNames
{
    public static readonly string[] All = ["fp32", "bf16"];
    /// <summary>The names a user may give: the precisions, and "auto" (<see cref="Auto"/>).</summary>
    public static readonly string[] WithAuto = ["auto", "fp32", "bf16"];

    /// <summary>
    /// The faster precision on this CPU: bf16 where it has native bf16 arithmetic (AVX512_BF16 or AMX-BF16, e.g. AMD Zen 4/5,
    /// Intel Sapphire Rapids), fp32 elsewhere. Without it libtorch emulates bf16: on an AVX-512 Xeon without AVX512_BF16 the
    /// bf16 GEMM peak was 59 GFLOP/s against 271 in fp32, and training 2.5× slower (BENCHMARKS.md).
    /// </summary>
    public static Precision Auto() => Runtime.CpuFeatures.HasNativeBf16 ? Precision.Bf16 : Precision.Fp32;

    /// <summary>Parses a name, resolving "auto" for this machine.</summary>
    public static Precision Resolve(string name) => name.Equals("auto", StringComparison.OrdinalIgnoreCase) ? Auto() : Parse(name);

    public static Precision Parse(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "float32" => Precision.Fp32,
        "bf16" or "bfloat16" => Precision.Bf16,
        _ => throw new DdpmException($"unknown precision '{name}' (choose from {string.Join(", ", All)})"),
    };

    public static string Name(this Precision p) => p == Precision.Bf16 ? "bf16" : "fp32";
}
