using System.CommandLine;
using Ddpm.Model;
using Ddpm.Schedules;

namespace Ddpm.Cli.Commands;

/// <summary>Options shared by several commands, with their validation.</summary>
internal static class CommonOptions
{
    public static Option<long> Seed() => new("--seed") { Description = "Random seed; the same seed gives the same result on the same machine", DefaultValueFactory = _ => 0 };

    public static Option<string> Data() => new("--data")
    {
        Description = "Folder with train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (MNIST's IDX format)",
        DefaultValueFactory = _ => "data/mnist",
    };

    public static Option<int> Threads() => Positive(new Option<int>("--threads")
    {
        Description = "Intra-op CPU threads (default: libtorch's choice)",
        DefaultValueFactory = _ => 0,
    }, allowZero: true);

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

    public static Option<string> Sigma()
    {
        var option = new Option<string>("--sigma") { Description = "Reverse-process variance: beta (σ² = β_t) or beta-tilde (σ² = β̃_t)", DefaultValueFactory = _ => "beta" };
        option.AcceptOnlyFromAmong("beta", "beta-tilde");
        return option;
    }

    public static Sampling.SigmaKind ParseSigma(string value) => value == "beta-tilde" ? Sampling.SigmaKind.BetaTilde : Sampling.SigmaKind.Beta;

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
