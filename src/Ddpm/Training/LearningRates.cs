namespace Ddpm.Training;

/// <summary>
/// The learning rate over a run: linear warm-up over the first steps, then constant or a half-cosine decay to 0
/// (Loshchilov &amp; Hutter 2017, SGDR eq. 5 without restarts) over the run's budget. The budget is the run's epochs, its
/// time limit, or both: progress is the larger of the two fractions done, so the decay ends with whichever ends first.
/// </summary>
internal static class LearningRates
{
    public const string Constant = "constant";
    public const string Cosine = "cosine";
    public static readonly IReadOnlyList<string> Names = [Constant, Cosine];

    /// <param name="step">Optimizer steps done before this one.</param>
    /// <param name="progress">Fraction of the budget done, in [0, 1] (ignored by the constant schedule).</param>
    public static double At(OptimConfig o, long step, double progress)
    {
        double warm = o.WarmupSteps == 0 ? 1 : Math.Min(1.0, (step + 1.0) / o.WarmupSteps);
        double decay = o.LrSchedule == Cosine ? 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(progress, 0, 1))) : 1;
        return o.LearningRate * warm * decay;
    }
}

/// <summary>How much training a run is given: steps (from its epochs) and optionally seconds of training time.</summary>
internal sealed record TrainingBudget(long Steps, double? Seconds = null)
{
    /// <summary>Fraction done after <paramref name="step"/> steps and <paramref name="seconds"/> of training time.</summary>
    public double Progress(long step, double seconds) =>
        Math.Max(Steps > 0 ? (double)step / Steps : 0, Seconds is > 0 ? seconds / Seconds.Value : 0);
}
