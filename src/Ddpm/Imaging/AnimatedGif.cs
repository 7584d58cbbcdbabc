using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>An animated, looping GIF whose frames are image grids (e.g. x_t along the reverse process).</summary>
internal static class AnimatedGif
{
    /// <param name="frames">Each [N, C, H, W] in [-1, 1] (C = 1 or 3), all the same shape.</param>
    /// <param name="delayMs">Display time of each frame; the last one is held 4× longer.</param>
    public static void Save(IReadOnlyList<Tensor> frames, string path, int columns = 0, int scale = 1, int delayMs = 80)
    {
        if (frames.Count == 0) throw new ArgumentException("no frames", nameof(frames));
        using var first = ImageGrid.Render(frames[0], columns, scale: scale);
        using var gif = first.CloneAs<Rgba32>();
        gif.Metadata.GetGifMetadata().RepeatCount = 0; // loop forever
        SetDelay(gif.Frames.RootFrame, frames.Count == 1 ? 4 * delayMs : delayMs);
        for (int i = 1; i < frames.Count; i++)
        {
            using var rendered = ImageGrid.Render(frames[i], columns, scale: scale);
            using var grid = rendered.CloneAs<Rgba32>();
            if (grid.Width != gif.Width || grid.Height != gif.Height) throw new ArgumentException($"frame {i} has another size", nameof(frames));
            SetDelay(gif.Frames.AddFrame(grid.Frames.RootFrame), i == frames.Count - 1 ? 4 * delayMs : delayMs);
        }
        // Grayscale: one palette of all 256 levels encodes every frame exactly. Colour: a palette per frame (GIF allows 256
        // colours), so a late frame is not quantised to the noise-like colours of the first.
        var encoder = frames[0].shape[1] == 1
            ? new GifEncoder { ColorTableMode = GifColorTableMode.Global, Quantizer = GrayPalette }
            : new GifEncoder { ColorTableMode = GifColorTableMode.Local, Quantizer = new WuQuantizer(new QuantizerOptions { Dither = null }) };
        ImageGrid.SaveAtomically(path, tmp => gif.Save(tmp, encoder));
    }

    private static readonly PaletteQuantizer GrayPalette = new(
        Enumerable.Range(0, 256).Select(v => Color.FromRgb((byte)v, (byte)v, (byte)v)).ToArray(), new QuantizerOptions { Dither = null });

    // GIF delays are in hundredths of a second.
    private static void SetDelay(ImageFrame frame, int delayMs) => frame.Metadata.GetGifMetadata().FrameDelay = Math.Max(2, delayMs / 10);
}
