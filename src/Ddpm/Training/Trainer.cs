using System.Diagnostics;
using Ddpm.Data;
using Ddpm.Diffusion;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Training;

internal sealed record TrainerOptions
{
    /// <summary>Total epochs of the run (a resumed run continues up to this number).</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Write a preview grid every N epochs and at the end (0 = never).</summary>
    public int PreviewEvery { get; init; } = 5;
    public int PreviewCount { get; init; } = 16;
    /// <summary>Stop cleanly, with a checkpoint, after this much training time in this session.</summary>
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>Also checkpoint in mid-epoch after this much training time since the last checkpoint (null = at epoch ends only), so
    /// a crash in a long epoch loses at most this much; such a checkpoint resumes exactly like one written at a stop.</summary>
    public TimeSpan? CheckpointEvery { get; init; } = DefaultCheckpointEvery;
    public static readonly TimeSpan DefaultCheckpointEvery = TimeSpan.FromMinutes(10);
    /// <summary>Score the EMA weights every N epochs (0 = never; needs <see cref="Evaluation"/>).</summary>
    public int EvalEvery { get; init; }
    public Evaluation.TrainingEvaluation? Evaluation { get; init; }
    /// <summary>Sampler for previews and evaluations during training: the checkpoint's default sampler with its default steps unless set
    /// (gamma and cold: 50 steps; their full T-step chain would dominate short runs).</summary>
    public SamplerOptions Sampler { get; init; } = DefaultSampler;

    public static readonly SamplerOptions DefaultSampler = new();
    public const int ColdPreviewSteps = 50;
}

/// <summary>
/// Algorithm 1 of Ho et al. 2020 with AdamW, gradient clipping, learning-rate warm-up and an EMA of
/// the weights; checkpoints at every epoch end, on interruption and at the end.
/// </summary>
internal sealed class Trainer : IDisposable
{
    public const string PreviewFolder = "previews";
    public const string PlotFile = "training.png";
    /// <summary>Steps between hand-backs of the allocators' kept free memory (<see cref="Runtime.TorchRuntime.ReturnFreeMemory"/>),
    /// which keep resident memory flat; each costs about one step's page faults (BENCHMARKS.md, issue 16).</summary>
    public const int ReturnMemoryEvery = 250;

    public string RunDir { get; }
    public RunConfig Config { get; }
    public UNet Model { get; }
    public Ema Ema { get; }
    public TrainingProgress Progress { get; private set; }
    public INoiseProcess Process { get; }
    /// <summary>Where the model's parameters are (the device the run was created or resumed in, <see cref="Runtime.DeviceScope"/>).</summary>
    public Device Device { get; }

    private readonly ImageDataset _data;
    private readonly FlatParameters _flat;
    private readonly FlatAdamW _optimizer;
    private readonly Generator _rng;
    private readonly RunLock _lock;

    private Trainer(string runDir, RunConfig config, ImageDataset data, UNet model, Ema ema, TrainingProgress progress, RunLock runLock)
    {
        _lock = runLock;
        RunDir = runDir;
        Config = config;
        _data = data;
        Model = model;
        Ema = ema;
        Progress = progress;
        Process = NoiseProcesses.Create(config.Diffusion);
        Device = model.parameters().First().device;
        var o = config.Training;
        model.Precision = ema.Model.Precision = PrecisionNames.Parse(o.Precision);
        _flat = FlatParameters.Bind(model.parameters(), withGrads: true);
        _optimizer = new FlatAdamW(_flat, o.LearningRate, o.AdamBeta2, o.WeightDecay);
        _rng = Runtime.Devices.GeneratorFor((ulong)o.Seed, Device);
    }

    /// <summary>A new run: weights initialised from the seed.</summary>
    public static Trainer Create(string runDir, RunConfig config, ImageDataset data)
    {
        config.Training.Validate();
        CheckData(config, data);
        var runLock = RunLock.Acquire(runDir);
        try
        {
            config = config with { Diffusion = NoiseProcesses.Prepare(config.Diffusion, data.Images) };
            random.manual_seed(config.Training.Seed); // weight initialisation
            var model = new UNet(config.Model);
            var ema = Ema.CopyOf(model, config.Training.EmaDecay);
            return new Trainer(runDir, config, data, model, ema, new TrainingProgress(), runLock);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>Continues a run exactly where its checkpoint left it: weights, EMA, optimizer moments, RNG and data order.</summary>
    public static Trainer Resume(string checkpointPath, ImageDataset data)
    {
        var dir = Checkpoint.Resolve(checkpointPath);
        var config = Checkpoint.ReadConfig(dir);
        CheckData(config, data);
        var runDir = Path.GetDirectoryName(Path.GetFullPath(dir))!;
        var runLock = RunLock.Acquire(runDir); // before reading the state another process may be writing
        try
        {
            var progress = Checkpoint.ReadProgress(dir);
            var model = new UNet(config.Model);
            Checkpoint.LoadWeights(model, Path.Combine(dir, Checkpoint.ModelFile));
            var emaModel = new UNet(config.Model);
            Checkpoint.LoadWeights(emaModel, Path.Combine(dir, Checkpoint.EmaFile));
            emaModel.eval();
            var trainer = new Trainer(runDir, config, data, model, new Ema(emaModel, config.Training.EmaDecay), progress, runLock);
            Checkpoint.LoadOptimizer(trainer._optimizer.Inner, dir);
            Checkpoint.LoadRng(trainer._rng, dir);
            return trainer;
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    private static void CheckData(RunConfig config, ImageDataset data)
    {
        if (config.Model.IsConditional && data.Count > 0 && data.Labels.max().item<long>() >= config.Model.NumClasses)
            throw new DdpmException($"{data.Source}: labels go up to {data.Labels.max().item<long>()} but the model has {config.Model.NumClasses} classes");
        if (data.Height != config.Model.ImageSize || data.Width != config.Model.ImageSize || data.Channels != config.Model.ImageChannels)
            throw new DdpmException($"{data.Source}: images are {data.Channels}x{data.Height}x{data.Width} but the model expects {config.Model.ImageChannels}x{config.Model.ImageSize}x{config.Model.ImageSize}");
        if (data.Count == 0) throw new DdpmException($"{data.Source}: no images");
    }

    public int StepsPerEpoch => (_data.Count + Config.Training.BatchSize - 1) / Config.Training.BatchSize;

    /// <summary>The run's budget for the learning-rate decay; <see cref="Run"/> sets it from its epochs and time limit.</summary>
    public TrainingBudget? Budget { get; private set; }

    /// <summary>Training seconds of the run so far, as <see cref="Run"/> measures them (0 outside it).</summary>
    private Func<double> _trainingSeconds = () => 0;

    /// <summary>The learning rate at a step (<see cref="LearningRates.At"/>); without a budget the decay has not started.</summary>
    public double LearningRateAt(long step, double trainingSeconds = 0) =>
        LearningRates.At(Config.Training, step, Budget?.Progress(step, trainingSeconds) ?? 0);

    /// <summary>The learning rate of the last optimizer step.</summary>
    public double LastLearningRate { get; private set; }

    /// <summary>
    /// One optimizer step of Algorithm 1 on a batch of clean images: t ~ U{1..T}, ε ~ N(0, I),
    /// gradient step on ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖² (the noise process supplies the pair and the loss,
    /// so gamma noise and cold diffusion train through the same step). Returns the loss.
    /// A conditional model also gets the labels, each replaced by ∅ with probability p (label dropout,
    /// Ho &amp; Salimans 2022 Algorithm 1), so one network learns ε(x, t, c) and ε(x, t, ∅).
    /// </summary>
    public float TrainStep(Tensor x0, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        Model.train();
        long step = Progress.GlobalStep;
        LastLearningRate = LearningRateAt(step, _trainingSeconds());
        _optimizer.LearningRate = LastLearningRate;
        var t = Process.DrawSteps(x0.shape[0], _rng);
        var (input, target) = Process.TrainingPair(x0, t, _rng);
        Tensor? c = null;
        if (Model.Config.IsConditional)
        {
            if (labels is null) throw new ArgumentNullException(nameof(labels), "a conditional model trains on labelled images");
            var drop = rand([labels.shape[0]], generator: _rng) < Config.Training.LabelDrop;
            c = where(drop, full_like(labels, Model.NullClass), labels);
        }
        var loss = Process.Loss(Model.Forward(input, t, c), target, t);
        float value = loss.item<float>();
        if (!float.IsFinite(value)) return value; // caller stops; weights stay as they were
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.ClipGradNorm(Config.Training.GradClip);
        _optimizer.Step();
        Ema.Update(_flat, step);
        Progress = Progress with { GlobalStep = step + 1 };
        return value;
    }

    /// <summary>The permutation of the data for an epoch: a function of the seed and the epoch, so a resumed run replays it.</summary>
    private Tensor EpochOrder(int epoch)
    {
        using var g = new Generator((ulong)(Config.Training.Seed * 1_000_003 + epoch + 1));
        return randperm(_data.Count, generator: g, device: CPU); // the data stay on the CPU; batches move to the model's device
    }

    public TrainingResult Run(TrainerOptions options, ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        if (options.Epochs < 1) throw new DdpmException($"epochs must be >= 1, got {options.Epochs}");
        observer ??= new NullObserver();
        Directory.CreateDirectory(RunDir);
        using var log = LossLog.Open(RunDir, Progress.GlobalStep);
        var clock = Stopwatch.StartNew();
        double elapsedBefore = Progress.ElapsedSeconds;
        int batch = Config.Training.BatchSize, stepsPerEpoch = StepsPerEpoch;
        var throughput = new Throughput();
        string checkpoint = Path.Combine(RunDir, Checkpoint.FolderName);
        float loss = float.NaN;
        var lastSaved = TimeSpan.Zero;
        // A time limit applies to this session: its seconds count from the training time the run already had.
        Budget = new TrainingBudget((long)options.Epochs * stepsPerEpoch, options.TimeLimit is { } l ? elapsedBefore + l.TotalSeconds : null);
        _trainingSeconds = () => elapsedBefore + clock.Elapsed.TotalSeconds;

        TrainingStatus Status(int epoch, int stepInEpoch) => new(epoch, options.Epochs, stepInEpoch, stepsPerEpoch,
            Progress.GlobalStep, loss, throughput.ImagesPerSecond, TimeSpan.FromSeconds(elapsedBefore + clock.Elapsed.TotalSeconds));

        TrainingResult Stop(TrainingOutcome outcome, int epoch, int stepInEpoch)
        {
            Progress = Progress with { Epoch = epoch, StepInEpoch = stepInEpoch };
            log.Flush();
            checkpoint = Save(elapsedBefore + clock.Elapsed.TotalSeconds, loss);
            observer.OnCheckpoint(checkpoint, Status(epoch, stepInEpoch));
            return new TrainingResult(outcome, checkpoint, Progress);
        }

        for (int epoch = Progress.Epoch; epoch < options.Epochs; epoch++)
        {
            int first = epoch == Progress.Epoch ? Progress.StepInEpoch : 0;
            using (var order = EpochOrder(epoch))
            {
                for (int s = first; s < stepsPerEpoch; s++)
                {
                    if (cancellation.IsCancellationRequested) return Stop(TrainingOutcome.Interrupted, epoch, s);
                    if (options.TimeLimit is { } limit && clock.Elapsed >= limit) return Stop(TrainingOutcome.TimeLimit, epoch, s);
                    var started = clock.Elapsed;
                    using (var scope = NewDisposeScope())
                    {
                        var index = order.narrow(0, (long)s * batch, Math.Min(batch, _data.Count - (long)s * batch));
                        var x0 = _data.Images.index_select(0, index).to(Device);
                        loss = TrainStep(x0, Model.Config.IsConditional ? _data.Labels.index_select(0, index).to(Device) : null);
                        if (!float.IsFinite(loss))
                            throw new TrainingDivergedException(
                                $"loss became {loss} at step {Progress.GlobalStep + 1} (epoch {epoch + 1}); training stopped, the last good checkpoint is kept" +
                                (Directory.Exists(checkpoint) ? $" at {checkpoint}" : " (none was saved yet)") + "; try a lower --lr");
                        throughput.Add(index.shape[0], clock.Elapsed - started);
                    }
                    log.Append(Progress.GlobalStep, epoch + 1, loss, LastLearningRate, elapsedBefore + clock.Elapsed.TotalSeconds,
                        Runtime.ProcessMemory.Resident().Current);
                    observer.OnStep(Status(epoch, s + 1));
                    if (Progress.GlobalStep % ReturnMemoryEvery == 0) Runtime.TorchRuntime.ReturnFreeMemory();
                    bool stopsNext = options.TimeLimit is { } end && clock.Elapsed >= end; // that stop writes the checkpoint
                    if (options.CheckpointEvery is { } every && s + 1 < stepsPerEpoch && !stopsNext && clock.Elapsed - lastSaved >= every)
                    {
                        Stop(TrainingOutcome.Completed, epoch, s + 1); // a mid-epoch checkpoint; training goes on
                        lastSaved = clock.Elapsed;
                    }
                }
            }
            var endOfEpoch = Stop(TrainingOutcome.Completed, epoch + 1, 0);
            lastSaved = clock.Elapsed;
            // Evaluations and previews do not count as training time (elapsed seconds, --max-minutes).
            clock.Stop();
            if (options.Evaluation is { } evaluation && options.EvalEvery > 0 && ((epoch + 1) % options.EvalEvery == 0 || epoch + 1 == options.Epochs))
            {
                try
                {
                    var sampler = InTrainingSampler(options.Sampler);
                    observer.OnEvaluationStarted(evaluation.ProgressSteps(sampler));
                    int done = 0;
                    var report = evaluation.Evaluate(Ema.Model, sampler, $"epoch {epoch + 1}", Generation.DefaultGuidanceFor(Progress.GlobalStep), new SyncProgress<int>(_ => observer.OnEvaluationProgress(++done)), cancellation);
                    Evaluation.TrainingEvaluation.Append(RunDir, epoch + 1, Progress.GlobalStep, elapsedBefore + clock.Elapsed.TotalSeconds, report);
                    observer.OnEvaluation(report);
                }
                catch (OperationCanceledException) { return endOfEpoch with { Outcome = TrainingOutcome.Interrupted }; }
            }
            WritePlot();
            if (options.PreviewEvery > 0 && ((epoch + 1) % options.PreviewEvery == 0 || epoch + 1 == options.Epochs))
            {
                try { observer.OnPreview(WritePreview(epoch + 1, options.PreviewCount, options.Sampler, observer, cancellation)); }
                catch (OperationCanceledException) { return endOfEpoch with { Outcome = TrainingOutcome.Interrupted }; }
            }
            Runtime.TorchRuntime.ReturnFreeMemory(); // after the checkpoint, the evaluation and the preview: their buffers are not the step's
            clock.Start();
            if (epoch + 1 == options.Epochs) return endOfEpoch;
        }
        // Already at or past the requested epochs (e.g. resuming a finished run).
        return new TrainingResult(TrainingOutcome.Completed, Directory.Exists(checkpoint) ? checkpoint : Save(elapsedBefore, loss), Progress);
    }

    private string Save(double elapsedSeconds, float lastLoss)
    {
        Progress = Progress with { ElapsedSeconds = elapsedSeconds, LastLoss = lastLoss };
        return Checkpoint.Save(RunDir, Config, Progress, Model, Ema.Model, _optimizer.Inner, _rng);
    }

    /// <summary>training.png: loss per step and FCD where measured.</summary>
    public string WritePlot()
    {
        var path = Path.Combine(RunDir, PlotFile);
        TrainingPlot.Save(path, LossLog.Read(RunDir), Evaluation.TrainingEvaluation.Read(RunDir, Progress.GlobalStep));
        return path;
    }

    /// <summary>Samples from the EMA weights with a fixed seed, so previews of successive epochs are comparable; a conditional model
    /// draws its classes in turn with guidance (<see cref="Generation.Default"/>).</summary>
    public string WritePreview(int epoch, int count, SamplerOptions? samplerOptions = null, ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        var sampler = InTrainingSampler(samplerOptions ?? TrainerOptions.DefaultSampler);
        observer?.OnPreviewStarted(sampler.Steps);
        using var g = Runtime.Devices.GeneratorFor(12345, Device);
        using var scope = NewDisposeScope();
        var progress = observer is null ? null : new SyncProgress<int>(observer.OnPreviewProgress);
        var images = Generation.Run(Ema.Model, sampler, count, Generation.Default(Config.Model, count, Generation.DefaultGuidanceFor(Progress.GlobalStep)) with { BatchSize = count }, g, (_, _) => progress, cancellation);
        var path = Path.Combine(RunDir, PreviewFolder, $"epoch-{epoch:D4}.png");
        ImageGrid.Save(images, path, columns: (int)Math.Ceiling(Math.Sqrt(count)), scale: 2);
        return path;
    }

    /// <summary>
    /// The preview/evaluation sampler, with steps capped at T (a short-T run uses all its steps). Gamma, blur, mask and edm runs
    /// use their own sampler.
    /// </summary>
    private ISampler InTrainingSampler(SamplerOptions options)
    {
        var diffusion = Config.Diffusion;
        if (diffusion.Noise != GaussianDiffusion.ProcessName || diffusion.IsEdm) options = options with { Kind = null, ClipX0 = false, Eta = 0 };
        if (options.Steps == 0 && (options.Kind ?? Samplers.DefaultFor(diffusion)) is "gamma" or "cold") options = options with { Steps = TrainerOptions.ColdPreviewSteps };
        bool guided = Generation.IsGuided(Config.Model.IsConditional, Generation.DefaultGuidanceFor(Progress.GlobalStep)); // as previews and evaluations sample
        return Samplers.ForConfig(diffusion, options.Steps > diffusion.Timesteps ? options with { Steps = 0 } : options, guided);
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _flat.Dispose();
        Model.Dispose();
        Ema.Dispose();
        _rng.Dispose();
        (Process as IDisposable)?.Dispose();
        _lock.Dispose();
    }

    private sealed class NullObserver : ITrainingObserver;

    /// <summary>Images per second over the last few steps.</summary>
    private sealed class Throughput
    {
        private readonly Queue<(long Images, TimeSpan Time)> _window = new();
        private long _images;
        private TimeSpan _time;

        public void Add(long images, TimeSpan time)
        {
            _window.Enqueue((images, time));
            _images += images;
            _time += time;
            if (_window.Count > 20)
            {
                var (i, t) = _window.Dequeue();
                _images -= i;
                _time -= t;
            }
        }

        public double ImagesPerSecond => _time > TimeSpan.Zero ? _images / _time.TotalSeconds : 0;
    }
}
