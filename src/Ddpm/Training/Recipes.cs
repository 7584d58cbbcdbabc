using Ddpm.Diffusion.Predictions;
using Ddpm.Model;

namespace Ddpm.Training;

/// <summary>
/// A training recipe: the defaults of the options that decide how fast a run learns. Each option can still be set on its
/// own; a recipe only fills in what is not given.
/// </summary>
/// <param name="MinSnrGamma">null = uniform loss weights.</param>
/// <param name="Conditional">Class-conditional training on the dataset's labels (classifier-free guidance at sampling time).</param>
internal sealed record Recipe(string Name, string Prediction, double? MinSnrGamma, string LrSchedule, string Architecture, bool Conditional, string Summary)
{
    /// <summary>
    /// The options as given, the recipe's values where not: a given min-SNR γ of 0 means uniform weights, and the edm
    /// objective has its own weighting λ(σ), so the recipe's min-SNR does not apply to it.
    /// </summary>
    public (string Prediction, double? MinSnrGamma, string LrSchedule, string Architecture, bool Conditional) Resolve(
        string? prediction = null, double? minSnrGamma = null, string? lrSchedule = null, string? architecture = null, bool? conditional = null)
    {
        var p = prediction ?? Prediction;
        double? gamma = minSnrGamma is { } g ? (g == 0 ? null : g) : p == Diffusion.EdmDiffusion.PredictionName ? null : MinSnrGamma;
        return (p, gamma, lrSchedule ?? LrSchedule, architecture ?? Architecture, conditional ?? Conditional);
    }
}

internal static class Recipes
{
    /// <summary>Exactly the configuration ddpm trained with before recipes existed (Ho et al. 2020's objective on the compact U-Net).</summary>
    public static readonly Recipe Seed = new("seed", EpsilonPrediction.PredictionName, null, LearningRates.Constant, Architectures.Seed, false,
        "unconditional, ε-prediction, uniform weights, constant learning rate, compact U-Net");

    /// <summary>The default: chosen by the time-to-quality runs in BENCHMARKS.md.</summary>
    public static readonly Recipe Fast = new("fast", VPrediction.PredictionName, 5, LearningRates.Cosine, Architectures.Zero, true,
        "class-conditional (guided sampling), v-prediction, min-SNR-5 weights, cosine learning-rate decay over the budget, compact U-Net with Ho et al.'s zero init");

    public static readonly IReadOnlyList<Recipe> All = [Fast, Seed];
    public static readonly IReadOnlyList<string> Names = [.. All.Select(r => r.Name)];
    public const string DefaultName = "fast";

    public static Recipe Get(string name) => All.FirstOrDefault(r => r.Name == name)
        ?? throw new DdpmException($"unknown recipe '{name}' (choose from {string.Join(", ", Names)})");
}
