using Ddpm.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Training;

/// <summary>
/// A checkpoint folder: config.json, progress.json, model.bin, ema.bin, optimizer.bin, rng.bin.
/// Saved into a temporary folder and renamed into place, so a crash never leaves a half-written one.
/// </summary>
internal static class Checkpoint
{
    public const string FolderName = "checkpoint";
    private const string OldSuffix = ".old";
    public const string ConfigFile = "config.json";
    public const string ProgressFile = "progress.json";
    public const string ModelFile = "model.bin";
    public const string EmaFile = "ema.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string RngFile = "rng.bin";

    /// <summary>Writes the checkpoint of a run into <c>{runDir}/checkpoint</c>; returns its path. Without an optimizer and
    /// generator it holds weights only (an imported model): it samples, but training cannot resume from it.</summary>
    public static string Save(string runDir, RunConfig config, TrainingProgress progress, UNet model, UNet ema,
        TorchSharp.Modules.OptimizerHelper? optimizer, Generator? rng)
    {
        var final = Path.Combine(runDir, FolderName);
        var tmp = Path.Combine(runDir, $".{FolderName}.tmp-{Environment.ProcessId}");
        var old = final + OldSuffix;
        try
        {
            Directory.CreateDirectory(runDir);
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            Directory.CreateDirectory(tmp);
            File.WriteAllText(Path.Combine(tmp, ConfigFile), config.ToJson());
            model.save(Path.Combine(tmp, ModelFile));
            ema.save(Path.Combine(tmp, EmaFile));
            optimizer?.save_state_dict(Path.Combine(tmp, OptimizerFile));
            if (rng is not null)
                using (var state = rng.get_state())
                    File.WriteAllBytes(Path.Combine(tmp, RngFile), state.data<byte>().ToArray());
            // progress.json last: its presence marks a complete folder.
            File.WriteAllText(Path.Combine(tmp, ProgressFile), progress.ToJson());

            if (Directory.Exists(old)) Directory.Delete(old, true);
            if (Directory.Exists(final)) Directory.Move(final, old);
            Directory.Move(tmp, final);
            if (Directory.Exists(old)) Directory.Delete(old, true);
            return final;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DdpmException($"{final}: cannot write checkpoint ({e.Message})");
        }
    }

    /// <summary>
    /// Finds the checkpoint folder for a path that is either a checkpoint folder or a run folder.
    /// Falls back to the previous checkpoint if a crash interrupted the final rename.
    /// </summary>
    public static string Resolve(string path)
    {
        if (File.Exists(Path.Combine(path, ConfigFile))) return path;
        foreach (var candidate in new[] { Path.Combine(path, FolderName), Path.Combine(path, FolderName + OldSuffix) })
            if (File.Exists(Path.Combine(candidate, ProgressFile))) return candidate;
        if (!Directory.Exists(path)) throw new DdpmException($"{path}: checkpoint not found");
        throw new DdpmException($"{path}: not a ddpm checkpoint or run folder (no {ConfigFile})");
    }

    /// <summary>The most recently written checkpoint under a folder of runs (default <c>runs/</c>).</summary>
    public static string Newest(string runsDir)
    {
        if (!Directory.Exists(runsDir))
            throw new DdpmException($"no checkpoint given and {runsDir}/ does not exist: train first or pass --checkpoint");
        var newest = Directory.EnumerateDirectories(runsDir)
            .SelectMany(run => new[] { Path.Combine(run, FolderName), Path.Combine(run, FolderName + OldSuffix) })
            .Where(c => File.Exists(Path.Combine(c, ProgressFile)))
            .OrderByDescending(c => File.GetLastWriteTimeUtc(Path.Combine(c, ProgressFile)))
            .FirstOrDefault();
        return newest ?? throw new DdpmException($"no checkpoint found under {runsDir}/: train first or pass --checkpoint");
    }

    public static RunConfig ReadConfig(string checkpointDir)
    {
        var path = Path.Combine(checkpointDir, ConfigFile);
        if (!File.Exists(path)) throw new DdpmException($"{checkpointDir}: not a ddpm checkpoint (no {ConfigFile})");
        return RunConfig.FromJson(File.ReadAllText(path), path);
    }

    public static TrainingProgress ReadProgress(string checkpointDir)
    {
        var path = Path.Combine(checkpointDir, ProgressFile);
        if (!File.Exists(path)) throw new DdpmException($"{checkpointDir}: incomplete checkpoint (no {ProgressFile})");
        return TrainingProgress.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Builds a model from the checkpoint's config alone and loads the EMA (or raw) weights.</summary>
    public static UNet LoadModel(string checkpointDir, bool ema = true)
    {
        var config = ReadConfig(checkpointDir);
        var model = new UNet(config.Model) { Precision = PrecisionNames.Parse(config.Training.Precision) };
        LoadWeights(model, Path.Combine(checkpointDir, ema ? EmaFile : ModelFile));
        return model;
    }

    /// <summary>Strict load: a weight file from another architecture is an error, not a partial load.</summary>
    public static void LoadWeights(UNet model, string path)
    {
        if (!File.Exists(path)) throw new DdpmException($"{path}: weights file not found");
        try
        {
            model.load(path, strict: true);
        }
        catch (Exception e) when (e is not DdpmException)
        {
            throw new DdpmException($"{path}: weights do not match the model in its config ({FirstLine(e.Message)})");
        }
    }

    /// <summary>A one-line error for a checkpoint that holds weights only (written by an import: neither optimizer nor generator state).</summary>
    public static void CheckResumable(string checkpointDir)
    {
        if (!File.Exists(Path.Combine(checkpointDir, OptimizerFile)) && !File.Exists(Path.Combine(checkpointDir, RngFile)))
            throw new DdpmException($"{checkpointDir}: holds weights only (imported, no optimizer state): it samples, but training cannot resume from it");
    }

    public static void LoadOptimizer(TorchSharp.Modules.OptimizerHelper optimizer, string checkpointDir)
    {
        CheckResumable(checkpointDir);
        var path = Path.Combine(checkpointDir, OptimizerFile);
        if (!File.Exists(path)) throw new DdpmException($"{path}: optimizer state not found");
        try { optimizer.load_state_dict(path); }
        catch (Exception e) { throw new DdpmException($"{path}: optimizer state does not match the model ({FirstLine(e.Message)})"); }
    }

    public static void LoadRng(Generator rng, string checkpointDir)
    {
        var path = Path.Combine(checkpointDir, RngFile);
        if (!File.Exists(path)) throw new DdpmException($"{path}: random generator state not found");
        using var state = tensor(File.ReadAllBytes(path), ScalarType.Byte, device: CPU); // generator states are CPU byte tensors
        try { rng.set_state(state); }
        catch (Exception e) { throw new DdpmException($"{path}: corrupt random generator state ({FirstLine(e.Message)})"); }
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();
}
