using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter 2019, Algorithm 2, in PyTorch's form: decoupled decay θ ← θ(1 − ηλ), then the Adam step
/// θ ← θ − η m̂/(√v̂ + ε) of Kingma &amp; Ba 2015, Algorithm 1) and gradient-norm clipping over flat buffers: parameters, gradients
/// and both moments are views into one tensor each (<see cref="FlatParameters"/>), so a step is a handful of large ops.
/// The update is element for element TorchSharp's <see cref="AdamW"/>, whose object this class keeps with its moments re-seated as
/// views of the flat ones: checkpoints keep TorchSharp's optimizer file format, and runs saved before this class resume.
/// </summary>
internal sealed class FlatAdamW : IDisposable
{
    /// <summary>TorchSharp's optimizer: its state (step counts, moments) is what checkpoints save and load.</summary>
    public AdamW Inner { get; }
    public FlatParameters Flat { get; }

    private readonly Tensor _m, _v;
    private readonly AdamW.State[] _states;
    private readonly double _beta1, _beta2, _eps, _weightDecay;

    public FlatAdamW(FlatParameters flat, double lr, double beta2, double weightDecay, double beta1 = 0.9, double eps = 1e-8)
    {
        if (flat.Grads is null) throw new ArgumentException("the parameters must be bound with gradients", nameof(flat));
        Flat = flat;
        (_beta1, _beta2, _eps, _weightDecay) = (beta1, beta2, eps, weightDecay);
        Inner = optim.AdamW(flat.Parameters, lr: lr, beta1: beta1, beta2: beta2, eps: eps, weight_decay: weightDecay);
        _m = zeros_like(flat.Values).DetachFromDisposeScope();
        _v = zeros_like(flat.Values).DetachFromDisposeScope();
        _states = [.. Inner.state_dict().State.Cast<AdamW.State>()];
        var (ms, vs) = (flat.ViewsOf(_m), flat.ViewsOf(_v));
        for (int i = 0; i < _states.Length; i++)
        {
            _states[i].exp_avg.Dispose();
            _states[i].exp_avg_sq.Dispose();
            (_states[i].exp_avg, _states[i].exp_avg_sq) = (ms[i].DetachFromDisposeScope(), vs[i].DetachFromDisposeScope());
        }
    }

    public double LearningRate
    {
        get => Inner.ParamGroups.First().LearningRate;
        set { foreach (var group in Inner.ParamGroups) group.LearningRate = value; }
    }

    /// <summary>Steps taken (TorchSharp keeps one count per parameter; they move together).</summary>
    public long StepCount => _states[0].step;

    public void ZeroGrad() => Flat.Grads!.zero_();

    /// <summary>
    /// Scales the gradients so that their global L2 norm is at most <paramref name="maxNorm"/> (PyTorch's
    /// <c>clip_grad_norm_</c>: the coefficient maxNorm/(‖g‖ + 10⁻⁶), clamped at 1, so no host synchronisation is needed).
    /// </summary>
    public void ClipGradNorm(double maxNorm)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var coefficient = ((Flat.Grads!.norm() + 1e-6).reciprocal() * maxNorm).clamp_max(1.0);
        Flat.Grads.mul_(coefficient);
    }

    /// <summary>One AdamW step on the flat buffers, with the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ of step t.</summary>
    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long t = _states[0].step + 1;
        foreach (var state in _states) state.step = t;
        double lr = LearningRate;
        var (theta, g) = (Flat.Values, Flat.Grads!);
        if (_weightDecay != 0) theta.mul_(1 - lr * _weightDecay);
        double bias1 = 1 - Math.Pow(_beta1, t), bias2 = 1 - Math.Pow(_beta2, t);
        _m.mul_(_beta1).add_(g, alpha: 1 - _beta1);
        _v.mul_(_beta2).addcmul_(g, g, value: 1 - _beta2);
        var denominator = (_v.sqrt() / Math.Sqrt(bias2)).add_(_eps);
        theta.addcdiv_(_m, denominator, value: -lr / bias1);
    }

    public void Dispose()
    {
        Inner.Dispose(); // disposes the moment views
        _m.Dispose();
        _v.Dispose();
    }
}
