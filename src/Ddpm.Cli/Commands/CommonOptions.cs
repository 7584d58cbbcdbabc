using System.CommandLine;
using Ddpm.Model;
using Ddpm.Schedules;

namespace Ddpm.Cli.Commands;

/// <summary>Options shared by several commands, with their validation.</summary>
internal static class CommonOptions
{
    /// <summary>--device: auto, cpu, cuda or cuda:N (resolved, and CUDA's availability checked, by the library).</summary>
    public static Option<string> Device() => Check(new Option<string>("--device")
    {
        Description = "Where to compute: auto (CUDA where this build and machine have it, else the CPU), cpu, cuda or cuda:N (this project's builds and machines are CPU-only: docs/platform.md)",
        DefaultValueFactory = _ => "auto",
    }, d => d is "auto" or "cpu" or "cuda" || (d.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(d[5..], out int i) && i >= 0) ? null
        : $"--device must be auto, cpu, cuda or cuda:N, got '{d}'");

    public static Option<long> Seed() => new("--seed") { Description = "Random seed; the same seed gives the same result on the same machine", DefaultValueFactory = _ => 0 };

    public static Option<string> Data(string? description = null) => new("--data")
    {
        Description = description ?? "Folder with train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (MNIST's IDX format, also Fashion-MNIST), or a folder of image files (class subfolders become labels)",
        DefaultValueFactory = _ => "data/mnist",
    };

    /// <summary>--guidance w ≥ 0; absent = the checkpoint's default (<see cref="Sampling.Generation.DefaultGuidanceFor"/>).</summary>
    public static Option<double?> Guidance(string description) => Check(new Option<double?>("--guidance")
    {
        Description = $"{description} (default: {Sampling.Generation.ShortRunGuidance} for a checkpoint of fewer than {Sampling.Generation.ShortRunSteps:N0} training steps, else {Sampling.Generation.DefaultGuidance})",
    }, w => w is < 0 || (w is { } v && !double.IsFinite(v)) ? $"--guidance must be >= 0, got {w}" : null);

    public static Option<int?> ImageSize() => Check(new Option<int?>("--image-size") { Description = "Image folders: resize (shorter side) and centre-crop every image to S x S (default: the images' own size, when they all share one square size)" },
        v => v is < 4 ? $"--image-size must be >= 4, got {v}" : null);

    public static Option<int?> Channels() => Check(new Option<int?>("--channels") { Description = "Image folders: 1 (grayscale) or 3 (colour) (default: 1 when every image is grayscale, else 3)" },
        v => v is not (null or 1 or 3) ? $"--channels must be 1 or 3, got {v}" : null);

    public static Option<int> Threads() => Positive(new Option<int>("--threads")
    {
        Description = "Intra-op CPU threads (0 = libtorch's choice, one per core: the default)",
        DefaultValueFactory = _ => 0,
    }, allowZero: true);

    /// <summary>A string option restricted to <paramref name="values"/>; without a default it reads as null when not given.</summary>
    public static Option<string> OneOf(string name, string description, IReadOnlyList<string> values, string defaultValue)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong([.. values]);
        return option;
    }

    public static Option<string?> OneOf(string name, string description, IReadOnlyList<string> values)
    {
        var option = new Option<string?>(name) { Description = description };
        option.AcceptOnlyFromAmong([.. values]);
        return option;
    }

    public static Option<string> Schedule(bool allowAll = false)
    {
        var option = new Option<string>("--schedule")
        {
            Description = $"Noise schedule: {string.Join(", ", NoiseSchedule.Names)}{(allowAll ? ", or all" : "")}",
            DefaultValueFactory = _ => "linear",
        };
        option.AcceptOnlyFromAmong([.. NoiseSchedule.Names, .. allowAll ? new[] { "all" } : []]);
        return option;
    }

    public static Option<string> Noise(bool allowAll = false, bool withDefault = true)
    {
        var option = new Option<string>("--noise")
        {
            Description = $"Corruption: {string.Join(", ", Diffusion.NoiseProcesses.Names)}{(allowAll ? ", or all" : "")} (blur and mask are cold diffusion)",
        };
        if (withDefault) option.DefaultValueFactory = _ => Diffusion.GaussianDiffusion.ProcessName;
        option.AcceptOnlyFromAmong([.. Diffusion.NoiseProcesses.Names, .. allowAll ? new[] { "all" } : []]);
        return option;
    }

    public static Option<int> Timesteps() => Range(new Option<int>("--timesteps")
    {
        Description = "Number of diffusion steps T",
        DefaultValueFactory = _ => 1000,
    }, 2, 100_000);

    public static Option<string> Preset()
    {
        var option = new Option<string>("--model")
        {
            Description = $"Model size preset: {string.Join(", ", UNetConfig.Presets.Keys)}",
            DefaultValueFactory = _ => UNetConfig.DefaultPreset,
        };
        option.AcceptOnlyFromAmong([.. UNetConfig.Presets.Keys]);
        return option;
    }

    public static Option<string> Precision(string description, string defaultValue = "auto")
    {
        var option = new Option<string>("--precision") { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(PrecisionNames.WithAuto);
        return option;
    }

    public static Option<string> Sigma()
    {
        var option = new Option<string>("--sigma") { Description = "Reverse-process variance: beta (σ² = β_t) or beta-tilde (σ² = β̃_t)", DefaultValueFactory = _ => "beta" };
        option.AcceptOnlyFromAmong("beta", "beta-tilde");
        return option;
    }

    public static SigmaKind ParseSigma(string value) => value == "beta-tilde" ? SigmaKind.BetaTilde : SigmaKind.Beta;

    /// <summary>--sampler, --steps, --eta, --sigma, --precision and --noise, shared by sample and eval.</summary>
    public sealed class SamplerSet
    {
        private readonly Option<string?> _kind = new("--sampler") { Description = "ddpm (ancestral), ddim or dpm++2m (DPM-Solver++ 2M) for Gaussian noise; heun for the edm objective; gamma and cold for those checkpoints (default: the checkpoint's own; Gaussian: ddim with guidance, dpm++2m without)" };
        private readonly Option<int> _steps = Positive(new Option<int>("--steps") { Description = "Sampler steps in 1..T (default: T; the default sampler: ddim 10 with guidance, dpm++2m 20); heun: noise levels (default 18, 2N - 1 model calls)", DefaultValueFactory = _ => 0 }, allowZero: true);
        private readonly Option<double> _eta = Positive(new Option<double>("--eta") { Description = "DDIM η: 0 deterministic, 1 ancestral-like", DefaultValueFactory = _ => 0 }, allowZero: true);
        private readonly Option<string> _sigma = Sigma();
        private readonly Option<bool> _clip = new("--clip-x0") { Description = "ddpm, ddim, dpm++2m: clamp the predicted x_0 to [-1, 1] at every step (Ho et al.'s clipped sampler; needed by schedules with ᾱ_T near 0: cosine, sigmoid, simple-linear)" };
        private readonly Option<string> _precision = new("--precision") { Description = "Convolution precision while sampling: auto (bf16 where the CPU has native bf16, else fp32), fp32 or bf16; weights are fp32 either way", DefaultValueFactory = _ => "auto" };
        private readonly Option<string> _noise = Noise(withDefault: false);
        private readonly Option<string> _device = Device();
        private readonly Option<string> _weights = OneOf("--weights", "Weights to sample: ema (the exponential moving average, Ho et al. 2020 App. B) or raw (the optimizer's last step)", ["ema", "raw"], "ema");
        private readonly Option<double> _churn = Positive(new Option<double>("--churn") { Description = "heun (edm checkpoints): EDM's S_churn, noise re-injected per step (0 = deterministic)", DefaultValueFactory = _ => 0 }, allowZero: true);
        private readonly Option<double?> _perturbation = Check(new Option<double?>("--start-perturbation") { Description = "cold (blur and mask checkpoints): σ of the Gaussian perturbation added to the start and removed from the result, in place of the checkpoint's (blur 0.002, mask 0)" },
            p => p is { } v && (v < 0 || !double.IsFinite(v)) ? $"--start-perturbation must be >= 0, got {v}" : null);

        public SamplerSet()
        {
            _kind.AcceptOnlyFromAmong([.. SamplerOptions.Names]);
            _precision.AcceptOnlyFromAmong(PrecisionNames.WithAuto);
            _noise.Description = "The checkpoint's noise type is read from its config; if given, a checkpoint with another one is an error";
        }

        public IEnumerable<Option> All => [_kind, _steps, _eta, _clip, _sigma, _churn, _perturbation, _precision, _weights, _noise, _device];

        /// <summary>The checkpoint (--checkpoint, else the newest under runs/) with its --weights (EMA by default) in --precision, auto
        /// resolved for this CPU (weights are fp32 and either precision samples them); --noise, if given, must be the checkpoint's.</summary>
        public DiffusionModel LoadModel(ParseResult parse, string? checkpoint)
        {
            var model = DiffusionModel.Load(checkpoint ?? Training.Checkpoint.Newest("runs"),
                new LoadOptions { UseEma = parse.GetValue(_weights) == "ema", Precision = parse.GetValue(_precision)!, Device = parse.GetValue(_device)! });
            if (parse.GetValue(_noise) is { } noise && noise != model.Info.Noise)
            {
                model.Dispose();
                throw new DdpmException($"{model.Info.CheckpointDirectory} was trained with {model.Info.Noise} noise, not {noise}");
            }
            try { model.DescribeSampler(Read(parse)); } // a sampler that does not fit the checkpoint: one line, before any work
            catch { model.Dispose(); throw; }
            return model;
        }

        public SamplerOptions Read(ParseResult parse)
        {
            var kind = parse.GetValue(_kind);
            SamplerOptions options = new() { Kind = kind, Steps = parse.GetValue(_steps), Eta = parse.GetValue(_eta), ClipX0 = parse.GetValue(_clip), Sigma = ParseSigma(parse.GetValue(_sigma)!), Churn = parse.GetValue(_churn), StartPerturbation = parse.GetValue(_perturbation) };
            if (kind is not null) Sampling.Samplers.CheckOptions(kind, options); // the default sampler is known only once the checkpoint is
            return options;
        }
    }

    public static Option<T> Positive<T>(Option<T> option, bool allowZero = false) where T : IComparable<T> =>
        Check(option, value =>
        {
            int sign = value.CompareTo(default!);
            return sign < 0 || (sign == 0 && !allowZero) ? $"{option.Name} must be {(allowZero ? ">= 0" : "> 0")}, got {value}" : null;
        });

    public static Option<int> Range(Option<int> option, int min, int max) =>
        Check(option, value => value < min || value > max ? $"{option.Name} must be in {min}..{max}, got {value}" : null);

    /// <summary>Adds a validator that returns an error message or null. Values that did not parse are left to the parser's own error.</summary>
    public static Option<T> Check<T>(Option<T> option, Func<T, string?> problem)
    {
        option.Validators.Add(r =>
        {
            T value;
            try { value = r.GetValueOrDefault<T>(); }
            catch (InvalidOperationException) { return; }
            if (problem(value) is { } message) r.AddError(message);
        });
        return option;
    }

    public static void ApplyThreads(int threads) => Runtime.TorchRuntime.Initialize(threads);
}
