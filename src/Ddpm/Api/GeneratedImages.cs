using Ddpm.Imaging;
using Ddpm.Sampling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using static TorchSharp.torch;

namespace Ddpm;

/// <summary>
/// Images a <see cref="DiffusionModel"/> made, as a tensor and as pictures: a PNG grid (bytes, file or ImageSharp image), a NumPy
/// archive, an animation of the reverse process. Dispose it to free the tensors.
/// </summary>
public sealed class GeneratedImages : IDisposable
{
    private readonly TrajectoryRecorder? _recorder;

    /// <summary>The images, [N, C, H, W] in [−1, 1] (float32, on the CPU).</summary>
    public Tensor Images { get; }

    /// <summary>The class of each image for a conditional model, null otherwise.</summary>
    public IReadOnlyList<int>? Labels { get; }

    /// <summary>The guidance scale w used with <see cref="Labels"/>, null without labels.</summary>
    public double? Guidance { get; }

    /// <summary>How they were made, e.g. "DDIM, 10 steps, η = 0, v-prediction".</summary>
    public string Method { get; }

    /// <summary>The states t kept with <see cref="GenerationRequest.FramesEvery"/>, from T to 0.</summary>
    public IReadOnlyList<int> Frames { get; }

    /// <summary>The states t kept with <see cref="GenerationRequest.SnapshotsNear"/>, descending.</summary>
    public IReadOnlyList<int> Snapshots { get; }

    /// <summary>Number of images.</summary>
    public int Count => (int)Images.shape[0];

    internal GeneratedImages(Tensor images, IReadOnlyList<int>? labels, double? guidance, string method,
        TrajectoryRecorder? recorder, IReadOnlyList<int> frames, IReadOnlyList<int> snapshots)
    {
        Images = images.DetachFromDisposeScope();
        (Labels, Guidance, Method, _recorder, Frames, Snapshots) = (labels, guidance, method, recorder, frames, snapshots);
    }

    /// <summary>x_t of every image at a kept state t ([N, C, H, W], clamped to [−1, 1]; the caller disposes it).</summary>
    public Tensor StateAt(int t) =>
        _recorder is not null && (Frames.Contains(t) || Snapshots.Contains(t)) ? _recorder.Frame(t)
            : throw new DdpmException($"x_t was not kept at t = {t} (kept: {string.Join(", ", Frames.Concat(Snapshots).Distinct())})");

    /// <summary>The images as one grid picture (8-bit gray or RGB; the caller disposes it), with an optional title line above.</summary>
    /// <param name="columns">Tiles per row; 0 = a square grid.</param>
    /// <param name="scale">Integer pixel upscaling.</param>
    /// <param name="title">Digits, lower-case letters but j and q, space and - . , : ( ) = +.</param>
    public Image ToImage(int columns = 0, int scale = 1, string? title = null) =>
        title is null ? ImageGrid.Render(Images, columns, scale: scale) : LabelledGrid.Titled(Images, title, columns, scale);

    /// <summary>The grid (<see cref="ToImage"/>) encoded as PNG.</summary>
    public byte[] ToPng(int columns = 0, int scale = 1, string? title = null)
    {
        using var image = ToImage(columns, scale, title);
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        return stream.ToArray();
    }

    /// <summary>Writes the grid (<see cref="ToImage"/>) as a PNG file.</summary>
    public void SavePng(string path, int columns = 0, int scale = 1, string? title = null)
    {
        OutputPath.EnsureWritable(path);
        if (title is null) ImageGrid.Save(Images, path, columns, scale: scale);
        else LabelledGrid.SaveTitled(Images, path, title, columns, scale);
    }

    /// <summary>Writes the images as a NumPy archive: uint8 <c>arr_0</c>, N×H×W×C (what FID tools read).</summary>
    public void SaveNpz(string path)
    {
        OutputPath.EnsureWritable(path);
        NpzWriter.Save(Images, path);
    }

    /// <summary>Writes an animated GIF of the reverse process: one grid per kept frame (<see cref="GenerationRequest.FramesEvery"/>).</summary>
    public void SaveGif(string path, int columns = 0, int scale = 1)
    {
        if (Frames.Count == 0) throw new DdpmException("no frames were kept: set FramesEvery in the request");
        OutputPath.EnsureWritable(path);
        var frames = Frames.Select(StateAt).ToList();
        try { AnimatedGif.Save(frames, path, columns, scale); }
        finally { foreach (var f in frames) f.Dispose(); }
    }

    /// <summary>Writes a strip of x_t: one row per image (the first <paramref name="rows"/>), one column per kept snapshot.</summary>
    public void SaveSnapshots(string path, int rows = 8, int scale = 1)
    {
        if (Snapshots.Count == 0) throw new DdpmException("no snapshots were kept: set SnapshotsNear in the request");
        OutputPath.EnsureWritable(path);
        using var scope = NewDisposeScope();
        rows = Math.Min(rows, Count);
        var tiles = stack(Snapshots.Select(t => StateAt(t).narrow(0, 0, rows)).ToArray(), 1).flatten(0, 1);
        ImageGrid.Save(tiles, path, columns: Snapshots.Count, scale: scale);
    }

    /// <summary>Frees the images and kept states.</summary>
    public void Dispose()
    {
        Images.Dispose();
        _recorder?.Dispose();
    }
}
