using Ddpm.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// Classifier-free guidance (Ho &amp; Salimans 2022, eq. 6) as an ε-model any sampler can loop over:
/// ε̃(x, t) = (1 + w) ε_θ(x, t, c) − w ε_θ(x, t, ∅). With w = 0 it is the plain conditional model.
/// The U-Net is borrowed, not owned: disposing this wrapper leaves it alone.
/// </summary>
internal sealed class GuidedModel : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly UNet _model;
    private readonly Tensor _labels;

    public double Guidance { get; }

    /// <param name="labels">Int64 class per image [B]; the sampler's batch must match.</param>
    public GuidedModel(UNet model, Tensor labels, double guidance) : base(nameof(GuidedModel))
    {
        if (!model.Config.IsConditional)
            throw new DdpmException("this checkpoint is unconditional: class labels and --guidance need a model trained with --conditional");
        if (guidance < 0 || !double.IsFinite(guidance)) throw new DdpmException($"guidance scale must be >= 0, got {guidance}");
        if (labels.numel() > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= model.Config.NumClasses))
            throw new DdpmException($"class labels must be in 0..{model.Config.NumClasses - 1}");
        _model = model;
        _labels = labels;
        Guidance = guidance;
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        if (x.shape[0] != _labels.shape[0]) throw new ArgumentException($"batch of {x.shape[0]} images but {_labels.shape[0]} labels");
        if (Guidance == 0) return _model.Forward(x, t, _labels);
        // One batch of 2B: conditional and unconditional halves share the call.
        var both = _model.Forward(cat([x, x]), cat([t, t]), cat([_labels, full_like(_labels, _model.NullClass)]));
        var halves = both.chunk(2);
        return halves[0] * (1 + Guidance) - halves[1] * Guidance;
    }

    // Samplers switch the model to eval mode; the borrowed U-Net must follow.
    public override void train(bool on = true)
    {
        base.train(on);
        _model.train(on);
    }
}
