using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Diffusion.Predictions;

/// <summary>
/// The one place that turns a network output into ε̂ and x̂_0 (as diffusers' <c>convert_model_output</c>), and an
/// ε-model view of any network, so samplers written for ε̂ run every parameterisation unchanged.
/// </summary>
internal static class ModelOutput
{
    /// <summary>x̂_0 = (x_t − σ_t ε̂)/α_t (Ho et al. 2020 eq. 15).</summary>
    public static Tensor X0FromEpsilon(Tensor xt, Tensor epsilon, double alpha, double sigma) => (xt - epsilon * sigma) / alpha;

    /// <summary>The network seen as an ε-model; the network itself when it already predicts ε.</summary>
    public static nn.Module<Tensor, Tensor, Tensor> AsEpsilonModel(nn.Module<Tensor, Tensor, Tensor> network, IPrediction prediction, NoiseSchedule schedule) =>
        prediction is EpsilonPrediction ? network : new EpsilonView(network, prediction, schedule);

    /// <summary>Runs <paramref name="use"/> on the network seen as an ε-model, disposing the view (never the network) afterwards.</summary>
    public static T WithEpsilonModel<T>(nn.Module<Tensor, Tensor, Tensor> network, IPrediction prediction, NoiseSchedule schedule,
        Func<nn.Module<Tensor, Tensor, Tensor>, T> use)
    {
        var model = AsEpsilonModel(network, prediction, schedule);
        try { return use(model); }
        finally { if (!ReferenceEquals(model, network)) model.Dispose(); } // the view borrows the network
    }

    /// <summary>ε̂(x_t, t) from a network with another target; borrows the network (disposing the view leaves it alone).</summary>
    private sealed class EpsilonView : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor, Tensor> _network;
        private readonly IPrediction _prediction;
        private readonly double[] _alpha, _sigma;

        public EpsilonView(nn.Module<Tensor, Tensor, Tensor> network, IPrediction prediction, NoiseSchedule schedule) : base(nameof(EpsilonView))
        {
            _network = network;
            _prediction = prediction;
            _alpha = schedule.AlphaBar.Select(Math.Sqrt).ToArray();
            _sigma = schedule.AlphaBar.Select(a => Math.Sqrt(1 - a)).ToArray();
        }

        public override Tensor forward(Tensor x, Tensor t)
        {
            var steps = t.data<long>().ToArray();
            var shape = new long[] { -1, 1, 1, 1 };
            var alpha = tensor(steps.Select(s => (float)_alpha[s]).ToArray()).view(shape);
            var sigma = tensor(steps.Select(s => (float)_sigma[s]).ToArray()).view(shape);
            return _prediction.ToEpsilon(x, _network.forward(x, t), alpha, sigma);
        }

        public override void train(bool on = true)
        {
            base.train(on);
            _network.train(on);
        }
    }
}
