using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ddpm;

/// <summary>Where training stands; progress.json in a checkpoint.</summary>
public sealed record TrainingProgress
{
    /// <summary>Completed epochs.</summary>
    public int Epoch { get; init; }
    /// <summary>Batches done in the epoch under way (0 at an epoch boundary).</summary>
    public int StepInEpoch { get; init; }
    /// <summary>Optimizer steps of the run.</summary>
    public long GlobalStep { get; init; }
    /// <summary>Training time of the run in seconds (previews and evaluations not counted).</summary>
    public double ElapsedSeconds { get; init; }
    /// <summary>Loss of the last step (NaN before the first).</summary>
    public double LastLoss { get; init; } = double.NaN;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>progress.json's text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads progress.json's text; <paramref name="source"/> names the file in a one-line error.</summary>
    public static TrainingProgress FromJson(string json, string source)
    {
        try { return JsonSerializer.Deserialize<TrainingProgress>(json, Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new DdpmException($"{source}: corrupt progress file ({e.Message})"); }
    }
}
