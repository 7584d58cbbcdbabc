using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Ddpm.Model;
using TorchSharp.PyBridge;

namespace Ddpm.Training;

/// <summary>
/// A model's weights as a safetensors file (Hugging Face's format: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw bytes), written and read by TorchSharp.PyBridge under the
/// network's own parameter names, which are PyTorch's state-dict names (<c>down.0.block.conv1.weight</c>). ddpm adds the
/// run's config to the header's <c>__metadata__</c> (string to string, as the format defines it), so the file alone rebuilds
/// a runnable checkpoint.
/// </summary>
internal static class SafetensorsWeights
{
    public const string ConfigKey = "ddpm.config";
    public const string StepsKey = "ddpm.trained_steps";
    public const string FormatKey = "format";

    /// <summary>Writes the weights with the config and trained steps as metadata; atomically (a temporary file renamed into place).</summary>
    public static void Write(UNet model, RunConfig config, long trainedSteps, string path)
    {
        var tmp = path + $".tmp-{Environment.ProcessId}";
        try
        {
            model.save_safetensors(tmp);
            AddMetadata(tmp, new Dictionary<string, string>
            {
                [FormatKey] = "pt", // what safetensors' own PyTorch writer puts there
                [ConfigKey] = config.ToJson(),
                [StepsKey] = trainedSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DdpmException($"{path}: cannot write ({e.Message})");
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>The header's <c>__metadata__</c> (empty when it has none); a file that is not safetensors is a one-line error.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        var (header, _) = ReadHeader(path);
        var metadata = new Dictionary<string, string>();
        if (header["__metadata__"] is JsonObject m)
            foreach (var (key, value) in m)
                if (value is JsonValue v && v.TryGetValue<string>(out var text)) metadata[key] = text;
        return metadata;
    }

    /// <summary>
    /// Reads a file written by <see cref="Write"/>: its config, trained steps and a network with its weights (strict: every
    /// parameter present with its shape).
    /// </summary>
    public static (RunConfig Config, long TrainedSteps, UNet Model) Read(string path)
    {
        var metadata = ReadMetadata(path);
        if (!metadata.TryGetValue(ConfigKey, out var json))
            throw new DdpmException($"{path}: a safetensors file without ddpm's config in its metadata ({ConfigKey}); export it with ddpm export");
        var config = RunConfig.FromJson(json, path);
        long steps = metadata.TryGetValue(StepsKey, out var s) && long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
        var model = new UNet(config.Model) { Precision = PrecisionNames.Parse(config.Training.Precision) };
        try
        {
            model.load_safetensors(path, strict: true);
        }
        catch (Exception e)
        {
            model.Dispose();
            throw new DdpmException($"{path}: weights do not match the network of its config ({e.Message.Split('\n')[0].Trim()})");
        }
        return (config, steps, model);
    }

    /// <summary>Rewrites the header with <paramref name="metadata"/> added; the tensors' byte ranges are relative to the data, so they stay.</summary>
    private static void AddMetadata(string path, IReadOnlyDictionary<string, string> metadata)
    {
        var (header, dataStart) = ReadHeader(path);
        var m = new JsonObject();
        foreach (var (key, value) in metadata) m[key] = value;
        header["__metadata__"] = m;
        var bytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The format asks for the data to start 8-byte aligned: pad the header with spaces.
        int padded = (bytes.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        bytes.CopyTo(headerBytes, 0);
        var data = File.ReadAllBytes(path).AsMemory((int)dataStart);
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(headerBytes);
        stream.Write(data.Span);
    }

    private static (JsonObject Header, long DataStart) ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new DdpmException($"{path}: file not found");
        using var stream = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        if (stream.Read(length) != 8) throw new DdpmException($"{path}: not a safetensors file (too short)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(length);
        if (n < 2 || n > 100_000_000 || (long)n > stream.Length - 8) throw new DdpmException($"{path}: not a safetensors file (bad header length)");
        var json = new byte[n];
        stream.ReadExactly(json);
        try
        {
            return (JsonNode.Parse(json) as JsonObject ?? throw new DdpmException($"{path}: not a safetensors file (header is not a JSON object)"), 8 + (long)n);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DdpmException($"{path}: not a safetensors file ({e.Message.Split('\n')[0].Trim()})");
        }
    }
}
