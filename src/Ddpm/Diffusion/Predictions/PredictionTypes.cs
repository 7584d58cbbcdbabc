namespace Ddpm.Diffusion.Predictions;

/// <summary>The registry of network parameterisations for Gaussian noise.</summary>
internal static class PredictionTypes
{
    private static readonly IReadOnlyDictionary<string, Func<IPrediction>> Registry = new Dictionary<string, Func<IPrediction>>
    {
        [EpsilonPrediction.PredictionName] = () => new EpsilonPrediction(),
        [VPrediction.PredictionName] = () => new VPrediction(),
    };

    public static IReadOnlyList<string> Names { get; } = [.. Registry.Keys];

    /// <summary>What --prediction accepts: the parameterisations above, and edm (its own process, <see cref="EdmDiffusion"/>).</summary>
    public static IReadOnlyList<string> Objectives { get; } = [.. Names, EdmDiffusion.PredictionName];

    public static IPrediction Create(string name) =>
        Registry.TryGetValue(name, out var make) ? make()
            : name == EdmDiffusion.PredictionName
                ? throw new DdpmException("an edm checkpoint has no β schedule: it samples with --sampler heun (EDM's own sampler)")
                : throw new DdpmException($"unknown prediction type '{name}' (choose from {string.Join(", ", Objectives)})");
}
