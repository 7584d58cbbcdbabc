using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// Runs an ε-sampler on a network trained for another target (v): the network is seen through
/// <see cref="ModelOutput.AsEpsilonModel"/>, so every sampler, guidance and recording work unchanged.
/// </summary>
internal sealed class PredictionSampler(ISampler inner, IPrediction prediction, NoiseSchedule schedule) : ISampler
{
    public ISampler Inner { get; } = inner;
    public IPrediction Prediction { get; } = prediction;
    public int Steps => Inner.Steps;
    public IReadOnlyList<int> States => Inner.States;

    public Tensor Sample(nn.Module<Tensor, Tensor, Tensor> model, long[] shape, Generator generator,
        IProgress<int>? progress = null, CancellationToken cancellation = default, Action<int, Tensor>? observe = null) =>
        ModelOutput.WithEpsilonModel(model, Prediction, schedule, view => Inner.Sample(view, shape, generator, progress, cancellation, observe));
}
