using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// How training corrupts a clean image and what the network learns to predict. DDPM's Gaussian
/// noise is one implementation; other corruptions (gamma noise, blur, masking) slot in beside it.
/// </summary>
internal interface INoiseProcess
{
    /// <summary>The name stored in a checkpoint's config (e.g. "gaussian").</summary>
    string Name { get; }

    NoiseSchedule Schedule { get; }

    /// <summary>
    /// Algorithm 1, lines 2-5 without the gradient step: corrupts x_0 at per-example steps t ∈ {1..T}
    /// and returns the network input and its regression target.
    /// </summary>
    (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator);

    /// <summary>
    /// The noise level of each training example (Algorithm 1, line 3: t ~ Uniform({1, …, T})). The process draws it, so a
    /// process with another level distribution (e.g. continuous σ) fits the same training step.
    /// </summary>
    Tensor DrawSteps(long batch, Generator? generator) =>
        randint(1, Schedule.T + 1, [batch], dtype: ScalarType.Int64, generator: generator);

    /// <summary>The training loss between the network's prediction and the target at steps <paramref name="t"/>.</summary>
    Tensor Loss(Tensor prediction, Tensor target, Tensor t);
}
