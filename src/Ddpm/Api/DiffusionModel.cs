using Ddpm.Model;
using Ddpm.Runtime;
using Ddpm.Sampling;
using Ddpm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm;

/// <summary>How <see cref="DiffusionModel.Load"/> reads a checkpoint.</summary>
public sealed record LoadOptions
{
    /// <summary>Load the exponential moving average of the weights (Ho et al. 2020, App. B), which sampling uses by default;
    /// false loads the optimizer's last weights.</summary>
    public bool UseEma { get; init; } = true;

    /// <summary>Convolution precision while sampling: "auto" (bf16 where the CPU has native bf16 arithmetic, else fp32),
    /// "fp32" or "bf16". Weights stay fp32 either way.</summary>
    public string Precision { get; init; } = "auto";

    /// <summary>Where the model computes: "auto" (CUDA where this build and machine have it, else the CPU), "cpu", "cuda" or
    /// "cuda:N". Any checkpoint loads onto any device.</summary>
    public string Device { get; init; } = "auto";
}

/// <summary>What a trained model is, read from its checkpoint.</summary>
/// <param name="CheckpointDirectory">The checkpoint folder the model was read from.</param>
/// <param name="ImageSize">Height and width of the images it makes, in pixels.</param>
/// <param name="Channels">1 (grayscale) or 3 (RGB).</param>
/// <param name="ClassCount">Classes of a class-conditional model; 0 for an unconditional one.</param>
/// <param name="ClassNames">The classes' names (class folders, Fashion-MNIST), or null when they are only numbers.</param>
/// <param name="Noise">gaussian, gamma, blur or mask.</param>
/// <param name="Objective">What the network predicts, e.g. "v-prediction, min-SNR-5 weights" (empty for cold diffusion).</param>
/// <param name="Timesteps">T of the forward process.</param>
/// <param name="TrainedSteps">Optimizer steps the checkpoint was trained for.</param>
/// <param name="ParameterCount">Trainable parameters of the U-Net.</param>
/// <param name="DefaultGuidance">The classifier-free guidance scale w used when none is given (conditional models).</param>
/// <param name="Summary">One line for logs, e.g. "small, gaussian noise, linear schedule, T = 1000".</param>
/// <param name="TrainingData">The data folder it was trained on, as given to training.</param>
public sealed record ModelInfo(string CheckpointDirectory, string TrainingData, int ImageSize, int Channels, int ClassCount, IReadOnlyList<string>? ClassNames,
    string Noise, string Objective, int Timesteps, long TrainedSteps, long ParameterCount, double DefaultGuidance, string Summary)
{
    /// <summary>True when the model was trained on class labels and can generate a requested class.</summary>
    public bool IsConditional => ClassCount > 0;
}

/// <summary>
/// A trained diffusion model read from a run or checkpoint folder that <c>ddpm train</c> (or <see cref="TrainingRun"/>) wrote:
/// generates images (<see cref="Generate"/>) and fills in missing pixels (<see cref="Inpaint"/>). Dispose it to free its weights.
/// </summary>
public sealed class DiffusionModel : IDisposable
{
    internal UNet Network { get; }
    internal RunConfig Config { get; }
    internal Device Device { get; }

    /// <summary>What the model is: size, channels, classes, noise type, training steps.</summary>
    public ModelInfo Info { get; }

    /// <summary>The convolution precision it samples in: "fp32" or "bf16".</summary>
    public string Precision => Network.Precision.Name();

    /// <summary>The device it computes on, e.g. "cpu" or "cuda:0".</summary>
    public string DeviceName => Device.ToString();

    private DiffusionModel(string checkpointDir, RunConfig config, UNet network, long trainedSteps, Device device)
    {
        Network = network;
        Device = device;
        Config = config;
        double guidance = Generation.DefaultGuidanceFor(trainedSteps);
        Info = new ModelInfo(checkpointDir, config.Data.Path, config.Model.ImageSize, config.Model.ImageChannels, config.Model.NumClasses,
            config.Data.ClassNames, config.Diffusion.Noise, config.Diffusion.DescribeObjective().TrimStart(',', ' '),
            config.Diffusion.Timesteps, trainedSteps, network.ParameterCount(), guidance,
            $"{config.Model.Preset}, {config.Diffusion.Describe()}, T = {config.Diffusion.Timesteps}");
    }

    /// <summary>Reads a model from a run folder (its <c>checkpoint/</c>) or a checkpoint folder; checkpoints of every earlier ddpm
    /// version load. Throws <see cref="DdpmException"/> with a one-line message when the folder is not a usable checkpoint.</summary>
    public static DiffusionModel Load(string path, LoadOptions? options = null)
    {
        DdpmRuntime.Initialize();
        options ??= new LoadOptions();
        var dir = Checkpoint.Resolve(path);
        var config = Checkpoint.ReadConfig(dir);
        var device = Devices.Resolve(options.Device);
        var network = Checkpoint.LoadModel(dir, options.UseEma);
        try
        {
            network.Precision = PrecisionNames.Resolve(options.Precision);
            network.to(device);
        }
        catch { network.Dispose(); throw; }
        return new DiffusionModel(dir, config, network, Checkpoint.ReadProgress(dir).GlobalStep, device);
    }

    /// <summary>The most recently written checkpoint under a folder of runs (default <c>runs</c>), loaded.</summary>
    public static DiffusionModel LoadNewest(string runsDirectory = "runs", LoadOptions? options = null) =>
        Load(Checkpoint.Newest(runsDirectory), options);

    /// <summary>The class index of a class name (case-insensitive) or number; a one-line error names the model's classes otherwise.</summary>
    public int ClassIndex(string nameOrNumber)
    {
        RequireConditional();
        return Config.Data.ClassIndex(nameOrNumber, Config.Model.NumClasses);
    }

    /// <summary>One line describing the sampler that <paramref name="sampler"/> selects for this model at guidance scale
    /// <paramref name="guidance"/> (null = <see cref="ModelInfo.DefaultGuidance"/>; the default sampler differs with and without
    /// guidance), e.g. "DDIM, 10 steps, η = 0, v-prediction".</summary>
    public string DescribeSampler(SamplerOptions? sampler = null, double? guidance = null) => Samplers.Describe(CreateSampler(sampler, guidance));

    /// <summary>The states t the sampler visits, from T down to 0 (fewer with fewer steps).</summary>
    public IReadOnlyList<int> SamplerStates(SamplerOptions? sampler = null, double? guidance = null) => CreateSampler(sampler, guidance).States;

    /// <summary>
    /// Generates <see cref="GenerationRequest.Count"/> images (per class with <see cref="GenerationRequest.ClassRows"/>) with the
    /// reverse process. The same request and seed give the same images on the same machine.
    /// </summary>
    /// <param name="request">What to generate.</param>
    /// <param name="progress">Reports each sampler step of each batch.</param>
    /// <param name="cancellation">Stops between sampler steps with <see cref="OperationCanceledException"/>.</param>
    public GeneratedImages Generate(GenerationRequest request, IProgress<SamplingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sampler = CreateSampler(request.Sampler, request.Guidance);
        if (request.Count < 1) throw new DdpmException($"number of images must be >= 1, got {request.Count}");
        if (request.Classes is not null && request.ClassRows is not null) throw new DdpmException("give classes or class rows, not both");
        double guidance = request.Guidance ?? Info.DefaultGuidance;
        int n = request.Count;
        int[]? labels = null;
        if (request.Classes is { } classes) labels = Generation.CyclingLabels(CheckClasses(classes), n);
        else if (request.ClassRows is { } rows) labels = Generation.RowLabels(CheckClasses(rows), n);
        else if (Info.IsConditional) labels = Generation.CyclingLabels([.. Enumerable.Range(0, Info.ClassCount)], n);
        else if (request.Guidance is not null) throw new DdpmException("guidance applies to class-conditional models only; this one is unconditional");
        if (labels is not null) n = labels.Length;

        var frames = request.FramesEvery > 0 ? TrajectoryRecorder.EveryKSteps(sampler, request.FramesEvery) : [];
        var snapshots = request.SnapshotsNear is { Count: > 0 } near
            ? TrajectoryRecorder.NearestStates(sampler, near.Select(t => t < 0 || t > Info.Timesteps
                ? throw new DdpmException($"snapshot state {t} is outside 0..{Info.Timesteps}") : t))
            : [];
        var recorder = frames.Length + snapshots.Length > 0 ? new TrajectoryRecorder(frames.Concat(snapshots)) : null;
        try
        {
            using var onDevice = new DeviceScope(Device);
            using var scope = NewDisposeScope();
            using var generator = Devices.GeneratorFor((ulong)request.Seed, Device);
            var options = new GenerationOptions
            {
                BatchSize = request.BatchSize,
                Labels = labels is null ? null : Generation.AsTensor(labels),
                Guidance = guidance,
                Recorder = recorder,
            };
            var images = Generation.Run(Network, sampler, n, options, generator, progress is null ? null
                : (first, count) => new SyncProgress<int>(step => progress.Report(new SamplingProgress(first, count, n, step, sampler.Steps))), cancellation);
            return new GeneratedImages(Devices.ToHost(images).MoveToOuterDisposeScope(), labels, labels is null ? null : guidance, Samplers.Describe(sampler), recorder, frames, snapshots);
        }
        catch
        {
            recorder?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fills in the unknown pixels of an image with RePaint (Lugmayr et al. 2022): <see cref="InpaintRequest.Count"/> completions that
    /// keep the known pixels. Needs a Gaussian-noise checkpoint trained with the eps or v objective (a one-line error otherwise).
    /// </summary>
    public GeneratedImages Inpaint(InpaintRequest request, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        var repaint = CreateRePaint(request);
        if (request.Count < 1) throw new DdpmException($"number of completions must be >= 1, got {request.Count}");
        using var onDevice = new DeviceScope(Device);
        using var scope = NewDisposeScope();
        var (image, mask) = (request.Image.to(Device), request.Mask.to(Device));
        long size = Info.ImageSize;
        if (image.dim() != 4 || image.shape[0] != 1 || image.shape[1] != Info.Channels || image.shape[2] != size || image.shape[3] != size)
            throw new DdpmException($"the image must be [1, {Info.Channels}, {size}, {size}] for this model, got [{string.Join(", ", image.shape)}]");
        if (mask.dim() != 4 || mask.shape[0] != 1 || mask.shape[1] != 1 || mask.shape[2] != size || mask.shape[3] != size)
            throw new DdpmException($"the mask must be [1, 1, {size}, {size}] (1 = known pixel), got [{string.Join(", ", mask.shape)}]");
        int n = request.Count;
        int[]? labels = request.Class is int c ? Generation.CyclingLabels(CheckClasses([c]), n) : null;
        if (labels is null && request.Guidance is not null) throw new DdpmException("guidance in inpainting needs a class");
        double guidance = request.Guidance ?? Info.DefaultGuidance;
        using var guided = labels is null ? null : new GuidedModel(Network, Generation.AsTensor(labels), guidance);
        using var generator = Devices.GeneratorFor((ulong)request.Seed, Device);
        var known = image.expand(n, -1, -1, -1).contiguous();
        var result = repaint.Inpaint(guided ?? (nn.Module<Tensor, Tensor, Tensor>)Network, known, mask, generator, progress, cancellation);
        return new GeneratedImages(Devices.ToHost(result).MoveToOuterDisposeScope(), labels, labels is null ? null : guidance, Describe(repaint), null, [], []);
    }

    /// <summary>Model calls per image of <see cref="Inpaint"/> with these settings.</summary>
    public int InpaintModelCalls(InpaintRequest request) => CreateRePaint(request).Steps;

    /// <summary>One line describing <see cref="Inpaint"/> with these settings, e.g. "RePaint, S = 250 steps, j = 10, r = 10: 1,160 model calls per image".</summary>
    public string DescribeInpainting(InpaintRequest request) => Describe(CreateRePaint(request));

    private static string Describe(RePaint r) => $"RePaint, S = {r.Timesteps.Count - 1} steps, j = {r.JumpLength}, r = {r.JumpCount}: {r.Steps} model calls per image";

    private RePaint CreateRePaint(InpaintRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try { return RePaint.ForConfig(Config.Diffusion, request.JumpLength, request.Resamplings, request.Steps); }
        catch (DdpmException e) { throw new DdpmException($"{Info.CheckpointDirectory}: {e.Message}"); }
    }

    /// <summary>
    /// Writes the loaded weights (the EMA by default, see <see cref="LoadOptions.UseEma"/>) as a safetensors file under PyTorch's
    /// state-dict names, with the run's config (JSON) and trained steps in the header's metadata (<c>ddpm.config</c>,
    /// <c>ddpm.trained_steps</c>): what <see cref="ImportSafetensors"/> and PyTorch's <c>safetensors.torch.load_file</c> read.
    /// </summary>
    public void ExportSafetensors(string path)
    {
        Imaging.OutputPath.EnsureWritable(path);
        SafetensorsWeights.Write(Network, Config, Info.TrainedSteps, path);
    }

    /// <summary>
    /// Writes fixed inputs and the network's outputs for them as an .npz (<c>x</c>, <c>t</c>, <c>labels</c> for a conditional
    /// model, <c>output</c>), computed in the precision the model was loaded with: a port of the network that loads the weights
    /// <see cref="ExportSafetensors"/> wrote must reproduce <c>output</c> from the other arrays (bench/peer/peer.py checks its own).
    /// </summary>
    public void ExportProbe(string path)
    {
        Imaging.OutputPath.EnsureWritable(path);
        NetworkProbe.Write(Network, Config.Diffusion.Timesteps, path);
    }

    /// <summary>
    /// Makes a runnable checkpoint in <paramref name="runDirectory"/> from a file <see cref="ExportSafetensors"/> wrote: it loads and
    /// samples like the original (the same images for the same seed), but holds no optimizer state, so training cannot resume
    /// from it. Returns the checkpoint folder. An existing run there is an error.
    /// </summary>
    public static string ImportSafetensors(string path, string runDirectory)
    {
        DdpmRuntime.Initialize();
        if (File.Exists(Path.Combine(runDirectory, Checkpoint.FolderName, Checkpoint.ConfigFile)))
            throw new DdpmException($"{runDirectory} already holds a run: choose another folder");
        var (config, steps, network) = SafetensorsWeights.Read(path);
        using (network)
            return Checkpoint.Save(runDirectory, config, new TrainingProgress { GlobalStep = steps }, network, network, null, null);
    }

    /// <summary>A conditional model samples with guidance unless w = 0 is asked for; an unconditional one never does.</summary>
    internal ISampler CreateSampler(SamplerOptions? options, double? guidance) =>
        Samplers.ForConfig(Config.Diffusion, options, Generation.IsGuided(Info.IsConditional, guidance ?? Info.DefaultGuidance));

    private IReadOnlyList<int> CheckClasses(IReadOnlyList<int> classes)
    {
        RequireConditional();
        if (classes.Count == 0) throw new DdpmException("no classes given");
        if (classes.FirstOrDefault(c => c < 0 || c >= Info.ClassCount, -1) is var bad and >= 0)
            throw new DdpmException($"class {bad} is outside 0..{Info.ClassCount - 1}");
        return classes;
    }

    private void RequireConditional()
    {
        if (!Info.IsConditional)
            throw new DdpmException($"classes apply to class-conditional checkpoints (train with --conditional); {Info.CheckpointDirectory} is unconditional");
    }

    /// <summary>Frees the weights.</summary>
    public void Dispose() => Network.Dispose();
}
