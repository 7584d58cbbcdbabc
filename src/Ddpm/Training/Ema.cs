using Ddpm.Model;
using static TorchSharp.torch;

namespace Ddpm.Training;

/// <summary>
/// Exponential moving average of the weights, used for sampling (Ho et al. 2020 App. B). The decay
/// warms up as min(decay, (1 + n)/(10 + n)) so short runs are not dominated by the random initial weights.
/// </summary>
internal sealed class Ema(UNet shadow, double decay) : IDisposable
{
    public UNet Model { get; } = shadow;
    public double Decay { get; } = decay;

    /// <summary>The shadow's parameters as one flat buffer, bound on the first update from a flat model (<see cref="FlatParameters"/>).</summary>
    private FlatParameters? _flat;

    public static Ema CopyOf(UNet model, double decay)
    {
        var shadow = new UNet(model.Config);
        shadow.load_state_dict(model.state_dict());
        shadow.eval();
        return new Ema(shadow, decay);
    }

    public double DecayAt(long step) => Math.Min(Decay, (1.0 + step) / (10.0 + step));

    /// <summary>θ_ema ← d·θ_ema + (1 − d)·θ after optimizer step number <paramref name="step"/>, from a model whose parameters
    /// are bound flat: two ops over the whole buffer.</summary>
    public void Update(FlatParameters model, long step)
    {
        double d = DecayAt(step);
        _flat ??= FlatParameters.Bind(Model.parameters(), withGrads: false);
        if (_flat.Values.numel() != model.Values.numel()) throw new ArgumentException("the EMA and the model have different parameters", nameof(model));
        using var _ = no_grad();
        _flat.Values.mul_(d).add_(model.Values, alpha: 1 - d);
    }

    public void Dispose()
    {
        _flat?.Dispose();
        Model.Dispose();
    }
}
