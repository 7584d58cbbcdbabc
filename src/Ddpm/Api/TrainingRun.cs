using Ddpm.Data;
using Ddpm.Evaluation;
using Ddpm.Model;
using Ddpm.Runtime;
using Ddpm.Sampling;
using Ddpm.Training;

namespace Ddpm;

/// <summary>
/// A new training run: the data, the network, the noise process and the optimisation. Every value left null is the
/// <see cref="Recipe"/>'s (the default recipe "fast" is the one BENCHMARKS.md chose); the others have ddpm's defaults.
/// </summary>
public sealed record TrainingRequest
{
    /// <summary>MNIST-format IDX files, class folders of images, or a flat folder of images (unconditional).</summary>
    public string Data { get; init; } = "data/mnist";
    /// <summary>Run folder to write (checkpoints, loss.csv, previews); null = runs/&lt;date&gt;-&lt;time&gt;.</summary>
    public string? RunDirectory { get; init; }
    /// <summary>Train on the first N images only (0 = all).</summary>
    public int Subset { get; init; }
    /// <summary>Image folders: resize and centre-crop to S × S (null = the images' own size).</summary>
    public int? ImageSize { get; init; }
    /// <summary>Image folders: 1 (gray) or 3 (RGB) (null = 1 when every image is gray).</summary>
    public int? Channels { get; init; }
    /// <summary>"fast" (the default) or "seed" (the configuration ddpm started from); see <c>docs/commands.md</c>.</summary>
    public string Recipe { get; init; } = Recipes.DefaultName;
    /// <summary>Gaussian noise: "eps", "v" or "edm" (null = the recipe's).</summary>
    public string? Prediction { get; init; }
    /// <summary>Gaussian noise: γ of min-SNR-γ loss weights, 0 = uniform (null = the recipe's).</summary>
    public double? MinSnrGamma { get; init; }
    /// <summary>"constant" or "cosine" after warm-up (null = the recipe's).</summary>
    public string? LrSchedule { get; init; }
    /// <summary>U-Net variant "seed", "zero" or "ho" (null = the recipe's).</summary>
    public string? Architecture { get; init; }
    /// <summary>Class-conditional on the data's labels (null = the recipe's, unconditional where the data has none).</summary>
    public bool? Conditional { get; init; }
    /// <summary>"gaussian", "gamma", "blur" or "mask".</summary>
    public string Noise { get; init; } = "gaussian";
    /// <summary>β schedule of gaussian and gamma noise: linear, simple-linear, cosine, sigmoid, exponential.</summary>
    public string Schedule { get; init; } = "linear";
    /// <summary>T, the forward process's steps.</summary>
    public int Timesteps { get; init; } = 1000;
    /// <summary>Gamma noise: the scale θ_0 (Nachmani et al. 2021).</summary>
    public double GammaTheta0 { get; init; } = Diffusion.GammaDiffusion.DefaultTheta0;
    /// <summary>Blur and mask: σ of the start perturbation (null = the noise type's default).</summary>
    public double? StartPerturbation { get; init; }
    /// <summary>Network preset: tiny, small (the default), base.</summary>
    public string Preset { get; init; } = UNetConfig.DefaultPreset;
    /// <summary>Width of the first U-Net level (null = the preset's).</summary>
    public int? BaseChannels { get; init; }
    /// <summary>Residual blocks per level (null = the preset's).</summary>
    public int? BlocksPerLevel { get; init; }
    /// <summary>Images per optimizer step.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>AdamW learning rate after warm-up.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>AdamW's β₂.</summary>
    public double AdamBeta2 { get; init; } = 0.999;
    /// <summary>Linear learning-rate warm-up steps.</summary>
    public int WarmupSteps { get; init; } = 200;
    /// <summary>Decay of the EMA weights used for sampling.</summary>
    public double EmaDecay { get; init; } = 0.999;
    /// <summary>Seed of the weights, the data order and the noise: the same seed trains the same model on the same machine.</summary>
    public long Seed { get; init; }
    /// <summary>Convolution precision: auto, fp32 or bf16.</summary>
    public string Precision { get; init; } = "auto";
    /// <summary>Conditional training: probability of the null class in place of the label (null = 0.1; given for an unconditional run, an error).</summary>
    public double? LabelDrop { get; init; }
    /// <summary>Gaussian noise with eps or v: immiscible noise assignment (Li et al. 2024).</summary>
    public bool Immiscible { get; init; }
    /// <summary>Where to train: "auto" (CUDA where available, else the CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";
}

/// <summary>How long and with what side products <see cref="TrainingRun.Train"/> runs.</summary>
public sealed record TrainingSchedule
{
    /// <summary>Total epochs (a resumed run continues up to this number).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Stop cleanly with a checkpoint after this many minutes of training (0 = no limit); the learning-rate decay ends there.</summary>
    public double MaxMinutes { get; init; }
    /// <summary>Write a preview grid every N epochs and at the end (0 = never).</summary>
    public int PreviewEvery { get; init; } = 5;
    /// <summary>Also checkpoint in mid-epoch after this many minutes since the last checkpoint (0 = at epoch ends only).</summary>
    public double CheckpointMinutes { get; init; } = TrainerOptions.DefaultCheckpointEvery.TotalMinutes;
    /// <summary>Score the EMA weights every K epochs into eval.csv (0 = never).</summary>
    public int EvalEvery { get; init; }
    /// <summary>Images sampled per evaluation.</summary>
    public int EvalImages { get; init; } = 500;
    /// <summary>Evaluator weights for <see cref="EvalEvery"/> (null = data/evaluator/NAME-cnn.bin for data folder NAME).</summary>
    public string? Classifier { get; init; }
    /// <summary>Sampler steps for previews and evaluations (0 = the checkpoint's default sampler's).</summary>
    public int PreviewSteps { get; init; }
}

/// <summary>
/// A training run in its folder: started from a <see cref="TrainingRequest"/> or resumed from a checkpoint, trained by
/// <see cref="Train"/> with Algorithm 1 of Ho et al. 2020 (and the recipe's objective). Holds the run folder's lock until disposed.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    private readonly Trainer _trainer;
    private readonly ImageDataset _data;

    /// <summary>The run folder.</summary>
    public string RunDirectory => _trainer.RunDir;
    /// <summary>One line saying what is trained, e.g. for a log.</summary>
    public string Summary { get; }
    /// <summary>What loading the data noticed (skipped files, small classes, no labels): worth showing to the user.</summary>
    public IReadOnlyList<string> Notes { get; }
    /// <summary>Where the run stands (epoch, step, training time).</summary>
    public TrainingProgress Progress => _trainer.Progress;
    /// <summary>Optimizer steps per epoch (the data's images over the batch size, rounded up).</summary>
    public int StepsPerEpoch => _trainer.StepsPerEpoch;
    /// <summary>The device it trains on, e.g. "cpu".</summary>
    public string DeviceName => _trainer.Device.ToString();
    /// <summary>Trainable parameters of the network.</summary>
    public long ParameterCount => _trainer.Model.ParameterCount();

    private TrainingRun(Trainer trainer, ImageDataset data, string summary, IReadOnlyList<string> notes) =>
        (_trainer, _data, Summary, Notes) = (trainer, data, summary, notes);

    /// <summary>Starts a new run in <see cref="TrainingRequest.RunDirectory"/>; an existing run there is an error (resume it instead).</summary>
    public static TrainingRun Start(TrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        DdpmRuntime.Initialize();
        var noise = request.Noise;
        if (!Diffusion.NoiseProcesses.Names.Contains(noise))
            throw new DdpmUsageException($"unknown noise type '{noise}' (choose from {string.Join(", ", Diffusion.NoiseProcesses.Names)})");
        bool gaussian = noise == Diffusion.GaussianDiffusion.ProcessName;
        if (!gaussian && (request.Prediction is not null || request.MinSnrGamma is not null))
            throw new DdpmUsageException($"--prediction and --min-snr apply to gaussian noise only; {noise} has its own target");
        var (prediction, minSnr, lrSchedule, arch, conditional) = Recipes.Get(request.Recipe)
            .Resolve(request.Prediction, request.MinSnrGamma, request.LrSchedule, request.Architecture, request.Conditional);
        var loaded = DataSources.Load(request.Data, DatasetSplit.Train, request.Subset, request.ImageSize, request.Channels);
        var data = loaded.Data;
        try
        {
            var notes = new List<string>();
            if (loaded.Skipped.Count > 0)
                notes.Add($"Skipped {loaded.Skipped.Count} unreadable file(s): {string.Join("; ", loaded.Skipped.Take(5).Select(f => $"{f.File} ({f.Reason})"))}{(loaded.Skipped.Count > 5 ? "; ..." : "")}");
            notes.AddRange(loaded.Warnings.Select(w => $"Warning: {request.Data}: {w}"));
            if (data.Count < request.BatchSize)
                notes.Add($"Note: {data.Count} image(s) is fewer than --batch-size {request.BatchSize}: every step trains on all of them");
            if (!loaded.Labelled && conditional)
            {
                if (request.Conditional is true) throw new DdpmException($"--conditional needs labels: {request.Data} has no class folders");
                conditional = false; // the recipe's default, on data without labels
                notes.Add($"{request.Data} has no class folders: training an unconditional model");
            }
            if (request.LabelDrop is not null && !conditional) throw new DdpmUsageException("--label-drop applies to --conditional training only");
            if (data.Height != data.Width) throw new DdpmException($"{request.Data}: images must be square, got {data.Height}x{data.Width}");
            var config = new RunConfig
            {
                Model = Architectures.Apply(UNetConfig.FromPreset(request.Preset, data.Height, data.Channels).Resized(request.BaseChannels, request.BlocksPerLevel), arch)
                    with { NumClasses = conditional ? loaded.ClassCount() : 0 },
                Diffusion = new DiffusionConfig
                {
                    Noise = noise, Schedule = request.Schedule, Timesteps = request.Timesteps, GammaTheta0 = request.GammaTheta0,
                    StartPerturbation = request.StartPerturbation,
                    // Other noise types have their own target: the recipe's Gaussian objective does not apply to them.
                    Prediction = gaussian ? prediction : Diffusion.Predictions.EpsilonPrediction.PredictionName,
                    MinSnrGamma = gaussian ? minSnr : null,
                    Immiscible = request.Immiscible,
                },
                Data = new DataConfig
                {
                    Path = request.Data, Subset = request.Subset, Count = data.Count, ImageSize = data.Height, Channels = data.Channels,
                    ClassNames = loaded.ClassNames.Count > 0 ? [.. loaded.ClassNames] : null,
                },
                Training = new OptimConfig
                {
                    BatchSize = request.BatchSize, LearningRate = request.LearningRate, AdamBeta2 = request.AdamBeta2, WarmupSteps = request.WarmupSteps,
                    LrSchedule = lrSchedule, EmaDecay = request.EmaDecay, Seed = request.Seed,
                    Precision = PrecisionNames.Resolve(request.Precision).Name(), LabelDrop = request.LabelDrop ?? new OptimConfig().LabelDrop,
                },
            };
            var runDir = request.RunDirectory ?? Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss"));
            if (File.Exists(Path.Combine(runDir, Checkpoint.FolderName, Checkpoint.ConfigFile)))
                throw new DdpmException($"{runDir} already holds a run: continue it with --resume {runDir} or choose another --out");
            var device = Devices.Resolve(request.Device);
            Trainer trainer;
            using (new DeviceScope(device)) trainer = Trainer.Create(runDir, config, data);
            var c = trainer.Config;
            var summary = $"Training {(c.Model.IsConditional ? $"class-conditional ({c.Model.NumClasses} classes) " : "")}{c.Model.Preset} U-Net ({trainer.Model.ParameterCount():N0} parameters) on {data.Count:N0} images from {request.Data}; " +
                          $"{c.Diffusion.Describe()}{c.Diffusion.DescribeObjective()}, T = {c.Diffusion.Timesteps}, {c.Training.Precision}, {c.Training.LrSchedule} learning rate; run folder {runDir}";
            return new TrainingRun(trainer, data, summary, notes);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Continues the run in a run or checkpoint folder exactly where it stopped: weights, EMA, optimizer, random state, data order.</summary>
    /// <param name="path">The run or checkpoint folder.</param>
    /// <param name="device">"auto", "cpu", "cuda" or "cuda:N": resume on the device the run trained on for an exact continuation
    /// (a CUDA generator's random stream is not the CPU's).</param>
    public static TrainingRun Resume(string path, string device = "auto")
    {
        DdpmRuntime.Initialize();
        var dir = Checkpoint.Resolve(path);
        Checkpoint.CheckResumable(dir);
        var config = Checkpoint.ReadConfig(dir);
        var data = DataSources.Load(config.Data.Path, DatasetSplit.Train, config.Data.Subset, config.Data.ImageSize, config.Data.Channels).Data;
        try
        {
            Trainer trainer;
            using (new DeviceScope(Devices.Resolve(device))) trainer = Trainer.Resume(dir, data);
            var p = trainer.Progress;
            return new TrainingRun(trainer, data, $"Resuming {trainer.RunDir} at epoch {p.Epoch + 1}, step {p.StepInEpoch} (global step {p.GlobalStep})", []);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains until <see cref="TrainingSchedule.Epochs"/>, the time limit or <paramref name="cancellation"/> (then it checkpoints and returns
    /// <see cref="TrainingOutcome.Interrupted"/>, and <see cref="Resume"/> continues exactly). Checkpoints are written atomically.
    /// </summary>
    /// <param name="schedule">How long, and what to write besides checkpoints.</param>
    /// <param name="observer">Receives steps, checkpoints, previews and evaluations (e.g. for a progress display).</param>
    /// <param name="cancellation">Stops after the current step with a checkpoint.</param>
    public TrainingResult Train(TrainingSchedule schedule, ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var dataConfig = _trainer.Config.Data;
        using var classifier = schedule.EvalEvery > 0 ? FeatureClassifier.Load(schedule.Classifier ?? FeatureClassifier.DefaultPath(dataConfig.Path)) : null;
        if (classifier is not null) SampleEvaluator.CheckModel(classifier.Info, _trainer.Config.Model, "--eval-every");
        using var testSet = classifier is null ? null : DataSources.LoadTestSet(dataConfig.Path, dataConfig.ImageSize, dataConfig.Channels);
        using var evaluator = classifier is not null ? new SampleEvaluator(classifier, testSet!) : null;
        var options = new TrainerOptions
        {
            Epochs = schedule.Epochs,
            PreviewEvery = schedule.PreviewEvery,
            TimeLimit = schedule.MaxMinutes > 0 ? TimeSpan.FromMinutes(schedule.MaxMinutes) : null,
            CheckpointEvery = schedule.CheckpointMinutes > 0 ? TimeSpan.FromMinutes(schedule.CheckpointMinutes) : null,
            EvalEvery = schedule.EvalEvery,
            Evaluation = evaluator is null ? null : new TrainingEvaluation(evaluator, schedule.EvalImages),
            Sampler = new SamplerOptions { Steps = schedule.PreviewSteps },
        };
        using var onDevice = new DeviceScope(_trainer.Device);
        return _trainer.Run(options, observer, cancellation);
    }

    /// <summary>Releases the run folder's lock and frees the model and data.</summary>
    public void Dispose()
    {
        _trainer.Dispose();
        _data.Dispose();
    }
}
