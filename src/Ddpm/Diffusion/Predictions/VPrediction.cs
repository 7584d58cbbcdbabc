using static TorchSharp.torch;

namespace Ddpm.Diffusion.Predictions;

/// <summary>
/// v-prediction (Salimans &amp; Ho 2022, §4 and App. D): v = α_t ε − σ_t x_0, so x̂_0 = α_t x_t − σ_t v̂ and
/// ε̂ = σ_t x_t + α_t v̂ (α_t² + σ_t² = 1). Its target stays well scaled at both ends of the schedule.
/// </summary>
internal sealed class VPrediction : IPrediction
{
    public const string PredictionName = "v";
    public string Name => PredictionName;

    public Tensor Target(Tensor x0, Tensor epsilon, Tensor alpha, Tensor sigma) => alpha * epsilon - sigma * x0;

    public Tensor ToEpsilon(Tensor xt, Tensor output, Tensor alpha, Tensor sigma) => sigma * xt + alpha * output;

    /// <summary>‖v − v̂‖² = (SNR + 1)·‖x_0 − x̂_0‖², so the weight is min(SNR, γ)/(SNR + 1) (Hang et al. 2023 §3.4).</summary>
    public Tensor MinSnrWeight(Tensor snr, double gamma) => snr.clamp_max(gamma) / (snr + 1);
}
