using static TorchSharp.torch;

namespace Ddpm.Sampling;

/// <summary>
/// Keeps copies of x_t at chosen states of a sampler (for a GIF of the reverse process or a strip of x_t),
/// across the batches of one generation. Pass <see cref="Observe"/> to <see cref="ISampler.Sample"/>.
/// </summary>
internal sealed class TrajectoryRecorder : IDisposable
{
    private readonly Dictionary<int, List<Tensor>> _frames;

    /// <summary>The recorded t values, in sampling order (descending).</summary>
    public IReadOnlyList<int> Times { get; }

    public TrajectoryRecorder(IEnumerable<int> times)
    {
        Times = times.Distinct().OrderByDescending(t => t).ToArray();
        _frames = Times.ToDictionary(t => t, _ => new List<Tensor>());
    }

    /// <summary>The t of every <paramref name="every"/>-th state of the sampler, plus x_T and x_0.</summary>
    public static int[] EveryKSteps(ISampler sampler, int every)
    {
        if (every < 1) throw new DdpmException($"frame interval must be >= 1 step, got {every}");
        var states = sampler.States;
        return states.Where((_, i) => i % every == 0 || i == states.Count - 1).ToArray();
    }

    /// <summary>The sampler's states nearest to the requested t values (DDIM visits only its subsequence), descending.</summary>
    public static int[] NearestStates(ISampler sampler, IEnumerable<int> requested)
    {
        var states = sampler.States;
        return requested.Select(t => states.MinBy(s => Math.Abs(s - t))).Distinct().OrderByDescending(t => t).ToArray();
    }

    public void Observe(int t, Tensor x)
    {
        if (_frames.TryGetValue(t, out var list))
            list.Add(x.clamp(-1, 1).detach().clone().DetachFromDisposeScope()); // owned by the recorder until Dispose
    }

    /// <summary>x_t of all recorded images ([N, C, H, W]) at a recorded t.</summary>
    public Tensor Frame(int t) =>
        _frames.TryGetValue(t, out var list) && list.Count > 0 ? cat(list, 0) : throw new ArgumentException($"no frames recorded at t = {t}", nameof(t));

    public void Dispose()
    {
        foreach (var list in _frames.Values)
            foreach (var x in list) x.Dispose();
    }
}
