using Ddpm.Data;
using Ddpm.Imaging;
using Ddpm.Model;
using Ddpm.Sampling;
using Ddpm.Schedules;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>RePaint (Lugmayr et al. 2022) and the conversion of users' images.</summary>
public class InpaintingTests
{
    public InpaintingTests() => TestSupport.Init();

    [Fact]
    public void Jump_schedule_walks_back_up_j_steps_r_minus_1_times_at_every_jump_point()
    {
        var repaint = new RePaint(NoiseSchedule.Create("linear", 30), jumpLength: 10, jumpCount: 3);
        var s = repaint.TimeSequence();
        Assert.Equal(30, s[0]);
        Assert.Equal(0, s[^1]);
        Assert.All(Enumerable.Range(1, s.Count - 1), i => Assert.Equal(1, Math.Abs(s[i] - s[i - 1])));
        // Jump points t = 10 and 20 (t + j <= T): each walk back up re-denoises the j steps above them,
        // so every t in 10..29 is denoised into r = 3 times, and t below the first jump point once.
        int Arrivals(int t) => s.Zip(s.Skip(1)).Count(p => p.First == t + 1 && p.Second == t);
        Assert.All(Enumerable.Range(10, 20), t => Assert.Equal(3, Arrivals(t)));
        Assert.All(Enumerable.Range(0, 10), t => Assert.Equal(1, Arrivals(t)));
        int ups = s.Zip(s.Skip(1)).Count(p => p.Second > p.First);
        Assert.Equal(2 * 2 * 10, ups);
        // Model calls: T down-steps plus one per up-step walked back down.
        Assert.Equal(30 + ups, repaint.Steps);
        Assert.Equal(30, new RePaint(NoiseSchedule.Create("linear", 30), 10, 1).Steps);
    }

    [Fact]
    public void All_known_pixels_return_the_input_and_the_known_region_always_matches()
    {
        random.manual_seed(2);
        using var model = new UNet(UNetConfig.FromPreset("tiny"));
        using var data = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test, 2);
        using var scope = NewDisposeScope();
        var repaint = new RePaint(NoiseSchedule.Create("linear", 20), jumpLength: 5, jumpCount: 2);
        var input = data.Images;

        using var g = new Generator(1);
        var all = repaint.Inpaint(model, input, ones(1, 1, 28, 28), g);
        Assert.True((all - input).abs().max().item<float>() < 1e-6);

        var mask = InputImage.RectangleMask(28, 0, 14, 28, 14); // the lower half is missing
        var filled = repaint.Inpaint(model, input, mask, g);
        Assert.True(((filled - input) * mask).abs().max().item<float>() < 1e-6, "known pixels must equal the input");
        Assert.True(((filled - input) * (1 - mask)).abs().max().item<float>() > 0.05, "unknown pixels come from the model");
        Assert.True(filled.abs().max().item<float>() <= 1);
    }

    /// <summary>A v-prediction network inpaints through the same ε̂: the exact Gaussian model answering in v gives what it gives in ε.</summary>
    [Fact]
    public void Repaint_on_a_v_prediction_model_matches_the_same_model_in_epsilon_form()
    {
        var schedule = NoiseSchedule.Create("linear", 50);
        using var eps = new ExactGaussianDenoiser(schedule, 0.1, 0.4);
        using var v = new ExactGaussianV(schedule, 0.1, 0.4);
        using var scope = NewDisposeScope();
        var known = full(2, 1, 8, 8, 0.5f);
        var mask = InputImage.RectangleMask(8, 0, 4, 8, 4);
        using var g1 = new Generator(4);
        using var g2 = new Generator(4);
        var a = new RePaint(schedule, 5, 2).Inpaint(eps, known, mask, g1);
        var b = RePaint.ForConfig(new Training.DiffusionConfig { Timesteps = 50, Prediction = "v" }, 5, 2).Inpaint(v, known, mask, g2);
        Assert.True(a.allclose(b, rtol: 1e-3, atol: 1e-4));
        Assert.Contains("RePaint needs a Gaussian-noise checkpoint",
            Assert.Throws<DdpmException>(() => RePaint.ForConfig(new Training.DiffusionConfig { Noise = "blur" })).Message);
    }

    [Fact]
    public void Users_images_are_converted_with_notes_and_bad_files_are_clear_errors()
    {
        var dir = TestSupport.TempDir();
        var colour = Path.Combine(dir, "colour.png");
        using (var image = new Image<Rgb24>(56, 40, new Rgb24(255, 0, 0)))
            image.SaveAsPng(colour);
        var (tensor, notes) = InputImage.Load(colour, 28);
        Assert.Equal(new long[] { 1, 1, 28, 28 }, tensor.shape);
        Assert.Contains("converted colour to grayscale", notes);
        Assert.Contains("resized 56x40 to 28x28", notes);
        Assert.InRange(tensor.mean().item<float>(), -1f, 1f);

        var gray = Path.Combine(dir, "gray.png");
        using (var image = new Image<L8>(28, 28, new L8(255)))
            image.SaveAsPng(gray);
        var (white, none) = InputImage.Load(gray, 28);
        Assert.Empty(none);
        Assert.Equal(1f, white.min().item<float>());

        var text = Path.Combine(dir, "notes.png");
        File.WriteAllText(text, "not an image");
        Assert.Contains("not a readable image", Assert.Throws<DdpmException>(() => InputImage.Load(text, 28)).Message);
        Assert.Contains("file not found", Assert.Throws<DdpmException>(() => InputImage.Load(Path.Combine(dir, "missing.png"), 28)).Message);
        Assert.Contains("inside the 28x28 image", Assert.Throws<DdpmException>(() => InputImage.RectangleMask(28, 20, 0, 10, 5)).Message);
    }
}
