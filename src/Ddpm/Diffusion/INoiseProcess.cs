using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// How training corrupts a clean image and what the network learns to predict. DDPM's Gaussian
/// noise is one implementation; other corruptions (gamma noise, blur, masking) slot in beside it.
/// </summary>
public interface INoiseProcess
{
    /// <summary>The name stored in a checkpoint's config (e.g. "gaussian").</summary>
    string Name { get; }

    NoiseSchedule Schedule { get; }

    /// <summary>
    /// Algorithm 1, lines 2-5 without the gradient step: corrupts x_0 at per-example steps t ∈ {1..T}
    /// and returns the network input and its regression target.
    /// </summary>
    (Tensor Input, Tensor Target) TrainingPair(Tensor x0, Tensor t, Generator? generator);

    /// <summary>The training loss between the network's prediction and the target.</summary>
    Tensor Loss(Tensor prediction, Tensor target);
}
