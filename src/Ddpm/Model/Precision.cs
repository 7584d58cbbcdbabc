namespace Ddpm.Model;

/// <summary>Compute precision of the convolutions. Weights, optimizer state, normalisation and the loss are always fp32.</summary>
public enum Precision
{
    Fp32,
    /// <summary>bfloat16 convolutions with fp32 master weights (hand-written mixed precision: TorchSharp 0.107 has no autocast).</summary>
    Bf16,
}

public static class PrecisionNames
{
    public static readonly string[] All = ["fp32", "bf16"];

    public static Precision Parse(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "float32" => Precision.Fp32,
        "bf16" or "bfloat16" => Precision.Bf16,
        _ => throw new DdpmException($"unknown precision '{name}' (choose from {string.Join(", ", All)})"),
    };

    public static string Name(this Precision p) => p == Precision.Bf16 ? "bf16" : "fp32";
}
