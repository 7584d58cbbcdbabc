namespace Ddpm.Diffusion.Predictions;

/// <summary>The registry of network parameterisations for Gaussian noise.</summary>
public static class PredictionTypes
{
    private static readonly IReadOnlyDictionary<string, Func<IPrediction>> Registry = new Dictionary<string, Func<IPrediction>>
    {
        [EpsilonPrediction.PredictionName] = () => new EpsilonPrediction(),
        [VPrediction.PredictionName] = () => new VPrediction(),
    };

    public static IReadOnlyList<string> Names { get; } = [.. Registry.Keys];

    public static IPrediction Create(string name) =>
        Registry.TryGetValue(name, out var make) ? make()
            : throw new DdpmException($"unknown prediction type '{name}' (choose from {string.Join(", ", Names)})");
}
