using Ddpm.Sampling;
using static TorchSharp.torch;

namespace Ddpm;

/// <summary>What <see cref="DiffusionModel.Generate"/> makes.</summary>
public sealed record GenerationRequest
{
    /// <summary>Number of images; with <see cref="ClassRows"/>, images per class.</summary>
    public int Count { get; init; } = 64;

    /// <summary>Seed of the sampler's noise: the same seed gives the same images on the same machine.</summary>
    public long Seed { get; init; }

    /// <summary>Sampler and its settings; the default is the model's own (Gaussian noise: DDIM, 10 steps, with guidance;
    /// DPM-Solver++(2M), 20 steps, without).</summary>
    public SamplerOptions Sampler { get; init; } = new();

    /// <summary>Class-conditional models: the classes to generate, drawn in turn (e.g. [7] for sevens only); null = all of the
    /// model's classes in turn.</summary>
    public IReadOnlyList<int>? Classes { get; init; }

    /// <summary>Class-conditional models: <see cref="Count"/> images of each class, class after class (one grid row each).</summary>
    public IReadOnlyList<int>? ClassRows { get; init; }

    /// <summary>Classifier-free guidance scale w, ε̃ = (1 + w) ε(x, t, c) − w ε(x, t, ∅) (Ho &amp; Salimans 2022);
    /// null = <see cref="ModelInfo.DefaultGuidance"/>.</summary>
    public double? Guidance { get; init; }

    /// <summary>Images denoised at once.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Keep x_t at every k-th state of the sampler (and x_T, x_0) for an animation; 0 = none
    /// (<see cref="GeneratedImages.Frames"/>).</summary>
    public int FramesEvery { get; init; }

    /// <summary>Keep x_t at the sampler's states nearest to these t (<see cref="GeneratedImages.Snapshots"/>).</summary>
    public IReadOnlyList<int>? SnapshotsNear { get; init; }
}

/// <summary>Progress of <see cref="DiffusionModel.Generate"/>: <paramref name="Step"/> of <paramref name="Steps"/> sampler steps done
/// for images [<paramref name="FirstImage"/>, <paramref name="FirstImage"/> + <paramref name="BatchImages"/>) of <paramref name="TotalImages"/>.</summary>
/// <param name="FirstImage">Index of the batch's first image.</param>
/// <param name="BatchImages">Images in the batch.</param>
/// <param name="TotalImages">Images in the whole request.</param>
/// <param name="Step">Sampler steps done for the batch.</param>
/// <param name="Steps">Sampler steps per batch.</param>
public readonly record struct SamplingProgress(int FirstImage, int BatchImages, int TotalImages, int Step, int Steps);

/// <summary>What <see cref="DiffusionModel.Inpaint"/> fills in (RePaint, Lugmayr et al. 2022).</summary>
public sealed record InpaintRequest
{
    /// <summary>The image, [1, C, H, W] in [−1, 1] at the model's size (<see cref="Images.LoadImage"/> reads a file so).</summary>
    public required Tensor Image { get; init; }

    /// <summary>[1, 1, H, W]: 1 where the pixel is known and kept, 0 where it is generated (<see cref="Images.RectangleMask"/>).</summary>
    public required Tensor Mask { get; init; }

    /// <summary>Number of completions.</summary>
    public int Count { get; init; } = 4;

    /// <summary>Respaced steps S of the schedule RePaint walks (the paper: 250; 0 = that default).</summary>
    public int Steps { get; init; }

    /// <summary>Jump length j of the resampling schedule (the paper: 10).</summary>
    public int JumpLength { get; init; } = RePaint.DefaultJumpLength;

    /// <summary>Resamplings r per jump (the paper: 10).</summary>
    public int Resamplings { get; init; } = RePaint.DefaultJumpCount;

    /// <summary>Class-conditional models: complete towards this class.</summary>
    public int? Class { get; init; }

    /// <summary>Guidance scale with <see cref="Class"/>; null = <see cref="ModelInfo.DefaultGuidance"/>.</summary>
    public double? Guidance { get; init; }

    /// <summary>Seed of the noise.</summary>
    public long Seed { get; init; }
}
