namespace Ddpm;

/// <summary>Where a training run stands after a step; what a progress display needs.</summary>
/// <param name="Epoch">Epochs completed before the one under way.</param>
/// <param name="Epochs">Epochs the run trains to.</param>
/// <param name="StepInEpoch">Batches done in the epoch under way.</param>
/// <param name="StepsPerEpoch">Batches per epoch.</param>
/// <param name="GlobalStep">Optimizer steps of the run so far.</param>
/// <param name="Loss">Loss of the last step.</param>
/// <param name="ImagesPerSecond">Recent training throughput.</param>
/// <param name="Elapsed">Training time of the run (previews and evaluations not counted).</param>
public sealed record TrainingStatus(
    int Epoch, int Epochs, int StepInEpoch, int StepsPerEpoch, long GlobalStep,
    double Loss, double ImagesPerSecond, TimeSpan Elapsed);

/// <summary>Callbacks from <see cref="TrainingRun.Train"/>; the library does no console I/O itself. Every method is optional.</summary>
public interface ITrainingObserver
{
    /// <summary>After every optimizer step.</summary>
    void OnStep(TrainingStatus status) { }
    /// <summary>After a checkpoint was written (atomically) to <paramref name="path"/>.</summary>
    void OnCheckpoint(string path, TrainingStatus status) { }
    /// <summary>A preview grid is being sampled with <paramref name="steps"/> sampler steps.</summary>
    void OnPreviewStarted(int steps) { }
    /// <summary>Sampler steps of the preview done.</summary>
    void OnPreviewProgress(int step) { }
    /// <summary>A preview grid was written to <paramref name="path"/>.</summary>
    void OnPreview(string path) { }
    /// <summary>An evaluation started.</summary>
    /// <param name="steps">Model evaluations in all (images × denoising steps / batch).</param>
    void OnEvaluationStarted(int steps) { }
    /// <summary>Model evaluations of the evaluation done.</summary>
    void OnEvaluationProgress(int step) { }
    /// <summary>An evaluation's scores (also appended to the run's eval.csv).</summary>
    void OnEvaluation(QualityReport report) { }
}

/// <summary>How <see cref="TrainingRun.Train"/> ended.</summary>
public enum TrainingOutcome
{
    /// <summary>All epochs were trained.</summary>
    Completed,
    /// <summary>Cancelled (Ctrl+C): a checkpoint was written; the run can be resumed exactly.</summary>
    Interrupted,
    /// <summary>The time limit was reached: a checkpoint was written.</summary>
    TimeLimit,
}

/// <summary>The end of <see cref="TrainingRun.Train"/>.</summary>
/// <param name="Outcome">Why training stopped.</param>
/// <param name="CheckpointPath">The checkpoint folder written last.</param>
/// <param name="Progress">Where the run stands.</param>
public sealed record TrainingResult(TrainingOutcome Outcome, string CheckpointPath, TrainingProgress Progress);

/// <summary>Loss became NaN or infinite: training stopped without saving over the last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message) : DdpmException(message);
