namespace Ddpm.Training;

/// <summary>Where a training run stands after a step; what a progress display needs.</summary>
public sealed record TrainingStatus(
    int Epoch, int Epochs, int StepInEpoch, int StepsPerEpoch, long GlobalStep,
    double Loss, double ImagesPerSecond, TimeSpan Elapsed);

/// <summary>Callbacks from <see cref="Trainer"/>; the library does no console I/O itself.</summary>
public interface ITrainingObserver
{
    void OnStep(TrainingStatus status) { }
    void OnCheckpoint(string path, TrainingStatus status) { }
    void OnPreviewStarted(int steps) { }
    void OnPreviewProgress(int step) { }
    void OnPreview(string path) { }
    /// <param name="steps">Model evaluations in all (images × denoising steps / batch).</param>
    void OnEvaluationStarted(int steps) { }
    void OnEvaluationProgress(int step) { }
    void OnEvaluation(Evaluation.QualityReport report) { }
}

/// <summary>How <see cref="Trainer.Run"/> ended.</summary>
public enum TrainingOutcome { Completed, Interrupted, TimeLimit }

public sealed record TrainingResult(TrainingOutcome Outcome, string CheckpointPath, TrainingProgress Progress);

/// <summary>Loss became NaN or infinite: training stopped without saving over the last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message) : DdpmException(message);
