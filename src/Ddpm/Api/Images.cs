using Ddpm.Imaging;
using static TorchSharp.torch;

namespace Ddpm;

/// <summary>Reads a user's images as model inputs (for <see cref="DiffusionModel.Inpaint"/>) and writes image tensors as PNG grids.</summary>
public static class Images
{
    /// <summary>An image file (PNG, JPEG, BMP, GIF, ...) as [1, C, size, size] in [−1, 1]: converted to the model's channels and resized to its size.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="model">The model it is for: its size and channels.</param>
    /// <param name="notes">Receives a note for each conversion made (colour to gray, resizing), e.g. to show the user.</param>
    public static Tensor LoadImage(string path, ModelInfo model, Action<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (image, made) = InputImage.Load(path, model.ImageSize, model.Channels);
        foreach (var note in made) notes?.Invoke(note);
        return image;
    }

    /// <summary>A mask file: white (≥ 50 % gray) = known pixel, black = to fill; [1, 1, size, size] of 0 and 1.</summary>
    public static Tensor LoadMask(string path, int size) => InputImage.LoadMask(path, size);

    /// <summary>A mask with every pixel known except the rectangle at (x, y) of w × h pixels, which is to be filled.</summary>
    public static Tensor RectangleMask(int size, int x, int y, int w, int h) => InputImage.RectangleMask(size, x, y, w, h);

    /// <summary>Image <paramref name="index"/> of an IDX folder's test split (MNIST's by default) with its label, checked against the model's shape.</summary>
    public static (Tensor Image, int Label) TestImage(string data, int index, ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var test = Data.ImageDataset.Load(Data.BundledFiles.Resolve(data), Data.DatasetSplit.Test);
        if (index < 0 || index >= test.Count) throw new DdpmException($"test image index must be in 0..{test.Count - 1}, got {index}");
        if (test.Height != model.ImageSize || test.Channels != model.Channels)
            throw new DdpmException($"test images are {test.Channels}x{test.Height}x{test.Width} but the model expects {model.Channels}x{model.ImageSize}x{model.ImageSize}");
        return (test.Images.narrow(0, index, 1).clone(), (int)test.Labels[index].item<long>());
    }

    /// <summary>Writes images [N, C, H, W] in [−1, 1] (C = 1 or 3) as one PNG grid, tiles in rows of <paramref name="columns"/> (0 = square).</summary>
    public static void SavePng(Tensor images, string path, int columns = 0, int scale = 1)
    {
        OutputPath.EnsureWritable(path);
        ImageGrid.Save(images, path, columns, scale: scale);
    }
}
