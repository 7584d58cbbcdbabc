using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Ddpm.Cli.Display;
using Ddpm.Data;
using Ddpm.Evaluation;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Training;

namespace Ddpm.Cli.Commands;

/// <summary><c>ddpm train</c>: Algorithm 1 on an IDX image set, with checkpoints, previews and resume.</summary>
internal static class TrainCommand
{
    private static readonly Option<int> Epochs = CommonOptions.Positive(new Option<int>("--epochs") { Description = "Total epochs to train (a resumed run continues up to this number)", DefaultValueFactory = _ => 10 });
    private static readonly Option<string> DataDir = CommonOptions.Data();
    private static readonly Option<int> Subset = CommonOptions.Positive(new Option<int>("--subset") { Description = "Train on the first N images only (0 = all)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<int> BatchSize = CommonOptions.Positive(new Option<int>("--batch-size") { Description = "Images per optimizer step", DefaultValueFactory = _ => 64 });
    private static readonly Option<double> LearningRate = CommonOptions.Positive(new Option<double>("--lr") { Description = "AdamW learning rate (after warm-up)", DefaultValueFactory = _ => 1e-3 });
    private static readonly Option<double> AdamBeta2 = CommonOptions.Check(new Option<double>("--adam-beta2") { Description = "AdamW's β₂, the decay of its squared-gradient average", DefaultValueFactory = _ => 0.999 },
        b => b is <= 0 or >= 1 || double.IsNaN(b) ? $"--adam-beta2 must be in (0, 1), got {b}" : null);
    private static readonly Option<int> Warmup = CommonOptions.Positive(new Option<int>("--warmup") { Description = "Linear learning-rate warm-up steps", DefaultValueFactory = _ => 200 }, allowZero: true);
    private static readonly Option<double> EmaDecay = CommonOptions.Check(new Option<double>("--ema-decay") { Description = "Decay of the EMA weights used for sampling", DefaultValueFactory = _ => 0.999 },
        d => d is < 0 or >= 1 ? $"--ema-decay must be in [0, 1), got {d}" : null);
    private static readonly Option<string> Schedule = CommonOptions.Schedule();
    private static readonly Option<int> Timesteps = CommonOptions.Timesteps();
    private static readonly Option<string> Noise = CommonOptions.Noise();
    private static readonly Option<double> GammaTheta0 = CommonOptions.Positive(new Option<double>("--gamma-theta0") { Description = "Gamma noise: the scale θ_0 (smaller = closer to Gaussian)", DefaultValueFactory = _ => Diffusion.GammaDiffusion.DefaultTheta0 });
    private static readonly Option<double?> StartPerturbation = CommonOptions.Check(new Option<double?>("--start-perturbation") { Description = "Blur and mask: σ of the noise added to the fully degraded start image when sampling (default: blur 0.002, removed again at the end; mask 0: its start levels differ)" },
        p => p is < 0 || (p is { } v && !double.IsFinite(v)) ? $"--start-perturbation must be >= 0, got {p}" : null);
    private static readonly Option<string> Preset = CommonOptions.Preset();
    private static readonly Option<int?> BaseChannels = CommonOptions.Check(new Option<int?>("--base-channels") { Description = "Width of the U-Net's first level, a multiple of 4 (default: the --model preset's; small = 32)" },
        c => c is { } v && (v < 4 || v % 4 != 0) ? $"--base-channels must be a positive multiple of 4, got {v}" : null);
    private static readonly Option<int?> BlocksPerLevel = CommonOptions.Check(new Option<int?>("--blocks-per-level") { Description = "Residual blocks per U-Net level (default: the --model preset's; small = 1)" },
        b => b is < 1 ? $"--blocks-per-level must be >= 1, got {b}" : null);
    private static readonly Option<int?> ImageSize = CommonOptions.ImageSize();
    private static readonly Option<int?> Channels = CommonOptions.Channels();
    private static readonly Option<long> Seed = CommonOptions.Seed();
    private static readonly Option<string?> Out = new("--out") { Description = "Run folder (default: runs/<date>-<time>)" };
    private static readonly Option<string?> Resume = new("--resume") { Description = "Continue the run in this run or checkpoint folder where it stopped" };
    private static readonly Option<int> PreviewEvery = CommonOptions.Positive(new Option<int>("--preview-every") { Description = "Save a grid of EMA samples every N epochs and at the end (0 = never)", DefaultValueFactory = _ => 5 }, allowZero: true);
    private static readonly Option<double> MaxMinutes = CommonOptions.Positive(new Option<double>("--max-minutes") { Description = "Stop cleanly with a checkpoint after this many minutes of training (0 = no limit)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<double> CheckpointMinutes = CommonOptions.Positive(new Option<double>("--checkpoint-minutes") { Description = "Also checkpoint in mid-epoch after this many minutes of training since the last checkpoint (0 = at epoch ends only)", DefaultValueFactory = _ => TrainerOptions.DefaultCheckpointEvery.TotalMinutes }, allowZero: true);
    private static readonly Option<int> EvalEvery = CommonOptions.Positive(new Option<int>("--eval-every") { Description = "Score the EMA weights (FCD, precision, recall, ...) every K epochs into eval.csv and training.png (0 = off: it samples --eval-n images)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<int> EvalN = CommonOptions.Range(new Option<int>("--eval-n") { Description = "Images sampled per evaluation during training", DefaultValueFactory = _ => 500 }, 5, 100_000);
    private static readonly Option<string?> Classifier = new("--classifier") { Description = "Evaluator weights for --eval-every (default: data/evaluator/NAME-cnn.bin for a data folder NAME; data/mnist has one)" };
    private static readonly Option<int> Threads = CommonOptions.Threads();
    private static readonly Option<string> Device = CommonOptions.Device();
    private static readonly Option<int> PreviewSteps = CommonOptions.Positive(new Option<int>("--preview-steps") { Description = "Sampler steps for previews and --eval-every with the checkpoint's default sampler, at most T (0 = its default: ddim 10 with guidance (conditional runs), dpm++2m 20 without, heun 18 levels, gamma and cold 50)", DefaultValueFactory = _ => 0 }, allowZero: true);
    private static readonly Option<bool?> Conditional = new("--conditional") { Description = "Class-conditional model on the dataset's labels, for --digit and --guidance at sampling time; --conditional false trains an unconditional one (default: the recipe's)" };
    private static readonly Option<double> LabelDrop = CommonOptions.Check(new Option<double>("--label-drop") { Description = "With --conditional: probability of training on the null class instead of the label", DefaultValueFactory = _ => 0.1 },
        p => p is < 0 or > 1 || double.IsNaN(p) ? $"--label-drop must be in [0, 1], got {p}" : null);
    private static readonly Option<string> Precision = CommonOptions.Precision("Convolution precision: auto (bf16 where the CPU has native bf16 arithmetic, else fp32; stored resolved), bf16 (fp32 master weights, optimizer, normalisation and loss) or fp32");

    private static readonly Option<string> Recipe = CommonOptions.OneOf("--recipe", $"Training recipe, the defaults of --conditional, --prediction, --min-snr, --lr-schedule and --arch: {string.Join("; ", Recipes.All.Select(r => $"{r.Name} = {r.Summary}"))}", Recipes.Names, Recipes.DefaultName);
    private static readonly Option<string?> PredictionType = CommonOptions.OneOf("--prediction", "Gaussian noise: what the network predicts, eps (the noise, Ho et al. 2020), v (Salimans & Ho 2022), or edm (Karras et al. 2022's preconditioned denoiser on continuous σ) (default: the recipe's)", Diffusion.Predictions.PredictionTypes.Objectives);
    private static readonly Option<double?> MinSnr = CommonOptions.Check(new Option<double?>("--min-snr") { Description = "Gaussian noise: γ of min-SNR-γ loss weights (Hang et al. 2023), 0 = uniform weights (default: the recipe's)" },
        g => g is < 0 || (g is { } v && !double.IsFinite(v)) ? $"--min-snr must be >= 0, got {g}" : null);
    private static readonly Option<string?> LrSchedule = CommonOptions.OneOf("--lr-schedule", "After warm-up: constant, or cosine decay to 0 at the end of --epochs or --max-minutes (default: the recipe's)", LearningRates.Names);
    private static readonly Option<bool> Immiscible = new("--immiscible") { Description = "Gaussian noise with eps or v: immiscible diffusion (Li et al. 2024), each batch's noise assigned to its images by minimum total distance" };
    private static readonly Option<string?> Arch = CommonOptions.OneOf("--arch", "U-Net variant: seed (compact), zero (with Ho et al.'s zero init), ho (zero init, Ho et al.'s skips, attention at 14x14) (default: the recipe's)", Architectures.Names);

    /// <summary>Options of one run of the command, which --resume may give again.</summary>
    private static readonly Option[] RunOptions = [Epochs, Resume, PreviewEvery, MaxMinutes, CheckpointMinutes, EvalEvery, EvalN, Classifier, Threads, PreviewSteps, Device];

    /// <summary>Options a checkpoint fixes; giving them with --resume is an error rather than silently ignored.</summary>
    private static readonly Option[] FixedByCheckpoint = [DataDir, Subset, ImageSize, Channels, BatchSize, LearningRate, AdamBeta2, Warmup, EmaDecay, Schedule, Timesteps, Preset, BaseChannels, BlocksPerLevel, Seed, Out, Precision, Conditional, LabelDrop, Noise, GammaTheta0, StartPerturbation, Recipe, PredictionType, MinSnr, LrSchedule, Arch, Immiscible];

    public static Command Create()
    {
        var command = new Command("train", "Train a DDPM (Algorithm 1) and write checkpoints, loss.csv and preview grids to a run folder");
        foreach (var o in FixedByCheckpoint.Concat(RunOptions)) command.Add(o);
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        CommonOptions.ApplyThreads(parse.GetValue(Threads));
        var output = parse.InvocationConfiguration.Output;
        var resume = parse.GetValue(Resume);
        TrainingRun run;
        if (resume is not null)
        {
            var clash = FixedByCheckpoint.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
            if (clash is not null) throw new DdpmUsageException($"{clash.Name} cannot be combined with --resume: the checkpoint fixes it");
            run = TrainingRun.Resume(resume, parse.GetValue(Device)!);
        }
        else
        {
            var noise = parse.GetValue(Noise)!;
            if (parse.GetResult(Schedule) is { Implicit: false } && !Diffusion.NoiseProcesses.UsesBetaSchedule(noise))
                throw new DdpmUsageException($"--schedule applies to gaussian and gamma noise; {noise} has its own severity schedule");
            if (parse.GetResult(GammaTheta0) is { Implicit: false } && noise != Diffusion.GammaDiffusion.ProcessName)
                throw new DdpmUsageException("--gamma-theta0 applies to --noise gamma only");
            if (parse.GetResult(StartPerturbation) is { Implicit: false } && Diffusion.NoiseProcesses.UsesBetaSchedule(noise))
                throw new DdpmUsageException("--start-perturbation applies to --noise blur and mask only");
            run = TrainingRun.Start(new TrainingRequest
            {
                Data = parse.GetValue(DataDir)!, RunDirectory = parse.GetValue(Out), Device = parse.GetValue(Device)!, Subset = parse.GetValue(Subset), ImageSize = parse.GetValue(ImageSize), Channels = parse.GetValue(Channels),
                Recipe = parse.GetValue(Recipe)!, Prediction = parse.GetValue(PredictionType), MinSnrGamma = parse.GetValue(MinSnr), LrSchedule = parse.GetValue(LrSchedule),
                Architecture = parse.GetValue(Arch), Conditional = parse.GetValue(Conditional),
                Noise = noise, Schedule = parse.GetValue(Schedule)!, Timesteps = parse.GetValue(Timesteps), GammaTheta0 = parse.GetValue(GammaTheta0),
                StartPerturbation = parse.GetValue(StartPerturbation), Immiscible = parse.GetValue(Immiscible),
                Preset = parse.GetValue(Preset)!, BaseChannels = parse.GetValue(BaseChannels), BlocksPerLevel = parse.GetValue(BlocksPerLevel),
                BatchSize = parse.GetValue(BatchSize), LearningRate = parse.GetValue(LearningRate), AdamBeta2 = parse.GetValue(AdamBeta2), WarmupSteps = parse.GetValue(Warmup),
                EmaDecay = parse.GetValue(EmaDecay), Seed = parse.GetValue(Seed), Precision = parse.GetValue(Precision)!, LabelDrop = parse.GetResult(LabelDrop) is { Implicit: false } ? parse.GetValue(LabelDrop) : null,
            });
        }

        using var ownedRun = run; // disposed (its run lock released) on every path from here
        foreach (var note in run.Notes) output.WriteLine(note);
        output.WriteLine(run.Summary);
        using var stop = new StopSignal();
        var schedule = new TrainingSchedule
        {
            Epochs = parse.GetValue(Epochs), MaxMinutes = parse.GetValue(MaxMinutes), PreviewEvery = parse.GetValue(PreviewEvery),
            CheckpointMinutes = parse.GetValue(CheckpointMinutes), EvalEvery = parse.GetValue(EvalEvery), EvalImages = parse.GetValue(EvalN),
            Classifier = parse.GetValue(Classifier), PreviewSteps = parse.GetValue(PreviewSteps),
        };
        var result = TrainingView.Run(run, schedule, stop.Token, output);
        output.WriteLine(result.Outcome switch
        {
            TrainingOutcome.Interrupted => $"Interrupted: checkpoint saved to {result.CheckpointPath}; continue with: ddpm train --resume {run.RunDirectory} --epochs {schedule.Epochs}",
            TrainingOutcome.TimeLimit => $"Time limit reached: checkpoint saved to {result.CheckpointPath}",
            _ => $"Done: {result.Progress.Epoch} epoch(s), {result.Progress.GlobalStep} steps, last loss {result.Progress.LastLoss:F4}; checkpoint {result.CheckpointPath}",
        });
        return result.Outcome == TrainingOutcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
    }

    /// <summary>Turns Ctrl+C and SIGTERM into a cancellation the trainer honours after the current step.</summary>
    private sealed class StopSignal : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly PosixSignalRegistration _sigint;
        private readonly PosixSignalRegistration _sigterm;

        public StopSignal()
        {
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        }

        public CancellationToken Token => _cts.Token;

        private void Handle(PosixSignalContext context)
        {
            if (_cts.IsCancellationRequested) return; // a second Ctrl+C kills the process as usual
            context.Cancel = true;
            _cts.Cancel();
        }

        public void Dispose()
        {
            _sigint.Dispose();
            _sigterm.Dispose();
            _cts.Dispose();
        }
    }
}
