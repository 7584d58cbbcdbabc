using static TorchSharp.torch;

namespace Ddpm.Diffusion.Predictions;

/// <summary>ε-prediction, Ho et al. 2020 eq. 14 (L_simple): the network predicts the noise.</summary>
internal sealed class EpsilonPrediction : IPrediction
{
    public const string PredictionName = "eps";
    public string Name => PredictionName;

    public Tensor Target(Tensor x0, Tensor epsilon, Tensor alpha, Tensor sigma) => epsilon;

    public Tensor ToEpsilon(Tensor xt, Tensor output, Tensor alpha, Tensor sigma) => output;

    /// <summary>‖ε − ε̂‖² = SNR·‖x_0 − x̂_0‖², so the weight is min(SNR, γ)/SNR (Hang et al. 2023 §3.4).</summary>
    public Tensor MinSnrWeight(Tensor snr, double gamma) => snr.clamp_max(gamma) / snr;
}
