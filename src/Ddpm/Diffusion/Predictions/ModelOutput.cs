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
        private readonly Tensor _alpha, _sigma; // √ᾱ_t and √(1 − ᾱ_t) for t = 0..T, fp32

        public EpsilonView(nn.Module<Tensor, Tensor, Tensor> network, IPrediction prediction, NoiseSchedule schedule) : base(nameof(EpsilonView))
        {
            _network = network;
            _prediction = prediction;
            _alpha = tensor(schedule.AlphaBar.Select(a => (float)Math.Sqrt(a)).ToArray()).DetachFromDisposeScope();
            _sigma = tensor(schedule.AlphaBar.Select(a => (float)Math.Sqrt(1 - a)).ToArray()).DetachFromDisposeScope();
        }

        public override Tensor forward(Tensor x, Tensor t)
        {
            // Read on t's device (not through the host: t may live on a GPU).
            var shape = new long[] { -1, 1, 1, 1 };
            var alpha = StepTables.At(_alpha, t).view(shape);
            var sigma = StepTables.At(_sigma, t).view(shape);
            return _prediction.ToEpsilon(x, _network.forward(x, t), alpha, sigma);
        }

        public override void train(bool on = true)
        {
            base.train(on);
            _network.train(on);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { _alpha.Dispose(); _sigma.Dispose(); } // the network is borrowed: not registered, not disposed
            base.Dispose(disposing);
        }
    }
}
