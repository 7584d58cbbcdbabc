using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>The reverse process made visible: recorded states, the GIF and the strip.</summary>
public class TrajectoryTests
{
    public TrajectoryTests() => TestSupport.Init();

    [Fact]
    public void Samplers_list_their_states_and_the_recorder_keeps_x_t_at_the_chosen_ones()
    {
        var schedule = NoiseSchedule.Create("linear", 20);
        Assert.Equal(Enumerable.Range(0, 21).Reverse(), new AncestralSampler(schedule).States);
        var ddim = new DdimSampler(schedule, 4);
        Assert.Equal(new[] { 20, 15, 10, 5, 0 }, ddim.States);
        Assert.Equal(new[] { 20, 10, 0 }, TrajectoryRecorder.EveryKSteps(ddim, 2));
        Assert.Equal(new[] { 20, 15, 10, 5, 0 }, TrajectoryRecorder.EveryKSteps(ddim, 1));
        Assert.Equal(new[] { 20, 5, 0 }, TrajectoryRecorder.NearestStates(ddim, [19, 6, 1, 0]));

        random.manual_seed(1);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        using var recorder = new TrajectoryRecorder([20, 10, 0]);
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var images = Generation.Run(model, ddim, 5, new GenerationOptions { BatchSize = 2, Recorder = recorder }, g);
        Assert.Equal(new long[] { 5, 1, 28, 28 }, recorder.Frame(20).shape); // three batches stitched together
        Assert.True((recorder.Frame(0) - images).abs().max().item<float>() < 1e-6, "x_0 is the final sample");
        using var replay = new Generator(3);
        var xT = randn(new long[] { 2, 1, 28, 28 }, generator: replay).clamp(-1, 1); // the first batch's x_T
        Assert.True((recorder.Frame(20).narrow(0, 0, 2) - xT).abs().max().item<float>() < 1e-6, "x_T is the sampler's starting noise");
        Assert.Throws<ArgumentException>(() => recorder.Frame(15));
    }

    [Fact]
    public void Gif_has_the_requested_frames_and_size_and_decodes_back()
    {
        using var scope = NewDisposeScope();
        var frames = Enumerable.Range(0, 7).Select(i => full(new long[] { 4, 1, 28, 28 }, -1.0 + i / 3.0)).ToList();
        var path = Path.Combine(TestSupport.TempDir(), "process.gif");
        AnimatedGif.Save(frames, path, columns: 2, scale: 2, delayMs: 100);

        using var gif = Image.Load<Rgba32>(path);
        Assert.Equal(7, gif.Frames.Count);
        var (w, h) = ImageGrid.Size(4, 28, 28, 2, 2);
        Assert.Equal((2 * w, 2 * h), (gif.Width, gif.Height));
        Assert.Equal(10, gif.Frames[0].Metadata.GetGifMetadata().FrameDelay);
        Assert.Equal(40, gif.Frames[6].Metadata.GetGifMetadata().FrameDelay); // the result is held longer
        // Frame content survives: the first tile's top-left pixel goes from black to white.
        Assert.Equal(0, gif.Frames[0][2 * 2, 2 * 2].R);
        Assert.Equal(255, gif.Frames[6][2 * 2, 2 * 2].R);
    }
}
