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
    public void Jump_schedule_equals_the_reference_get_schedule_jump()
    {
        // andreas128/RePaint guided_diffusion/scheduler.py, get_schedule_jump(t_T=20, n_sample=1, jump_length=3, jump_n_sample=2)
        // run with Python, each entry + 1 (their entries are 0-based step indices, −1 = x_0; ours are the states x_s).
        int[] reference = [20, 19, 18, 17, 16, 17, 18, 19, 18, 17, 16, 15, 14, 13, 14, 15, 16, 15, 14, 13, 12, 11, 10, 11, 12, 13, 12, 11, 10, 9, 8, 7,
            8, 9, 10, 9, 8, 7, 6, 5, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 0];
        Assert.Equal(reference, new RePaint(NoiseSchedule.Create("linear", 20), jumpLength: 3, jumpCount: 2).TimeSequence());

        // The paper's configuration (t_T = 250, j = 10, r = 10) on a 1,000-step model: the same call gives 4,571 entries, the first
        // 249 (x_250) and the last −1, with 2,410 moves down (model calls) and 2,160 back up; the first walk up starts at 230 (x_231).
        var paper = new RePaint(NoiseSchedule.Create("linear", 1000), 10, 10, steps: 250);
        var s = paper.TimeSequence();
        Assert.Equal(4571, s.Count);
        Assert.Equal((250, 0), (s[0], s[^1]));
        Assert.Equal(2410, paper.Steps);
        Assert.Equal([250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240, 239, 238, 237, 236, 235, 234, 233, 232, 231, 232], s.Take(21).ToArray());
        Assert.Equal(s, RePaint.ForConfig(new Training.DiffusionConfig()).TimeSequence()); // the default is the paper's configuration
        Assert.Equal(20, new RePaint(NoiseSchedule.Create("linear", 20), 3, 1).Steps); // r = 1: no resampling
    }

    [Fact]
    public void Respaced_steps_equal_guided_diffusion_space_timesteps()
    {
        // sorted(space_timesteps(T, [S])) from RePaint's guided_diffusion/respace.py, run with Python, each + 1.
        Assert.Equal([1, 5, 9, 13, 17, 21, 25, 29, 33, 37], RePaint.SpacedTimesteps(1000, 250).Take(10).ToArray());
        Assert.Equal([992, 996, 1000], RePaint.SpacedTimesteps(1000, 250).TakeLast(3).ToArray());
        Assert.Equal([1, 15, 29, 43, 58, 72, 86, 100], RePaint.SpacedTimesteps(100, 8));
        Assert.Equal([1, 501, 1000], RePaint.SpacedTimesteps(1000, 3)); // 499.5 rounds to even, as Python's round
        Assert.Equal([1, 6, 11, 16, 21], RePaint.SpacedTimesteps(21, 5));
        Assert.Equal(Enumerable.Range(1, 30), RePaint.SpacedTimesteps(30, 30));
        Assert.Contains("RePaint steps must be in 1..20", Assert.Throws<DdpmException>(() => new RePaint(NoiseSchedule.Create("linear", 20), 3, 2, steps: 21)).Message);
    }

    /// <summary>
    /// With nothing known, RePaint is the ancestral sampler plus walks back up with q(x_t | x_{t−1}), which keep the marginals: with the
    /// exact denoiser of x_0 ~ N(μ, s²), the paper's respaced walk (S = 250 of T = 1000, j = 10, r = 10) must end at mean μ and
    /// variance s². A 1-D recursion of the same walk's means and variances (in Python) gives exactly μ and 1.011 s² (σ² = β' on the
    /// respaced steps is slightly too large; at S = 50 it would be 1.12 s²).
    /// </summary>
    [Fact]
    public void Respaced_repaint_with_nothing_known_reaches_the_data_distribution_of_the_exact_denoiser()
    {
        const double mu = 0.2, s = 0.3;
        var schedule = NoiseSchedule.Create("linear", 1000);
        using var model = new ExactGaussianDenoiser(schedule, mu, s);
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var x = new RePaint(schedule, jumpLength: 10, jumpCount: 10, steps: 250).Inpaint(model, zeros(16, 1, 28, 28), zeros(1, 1, 28, 28), g);
        Assert.InRange(x.mean().item<float>(), mu - 0.015, mu + 0.015);   // 12,544 pixels: standard errors 0.003 and 1.3 %
        Assert.InRange(x.var().item<float>(), s * s * 0.97, s * s * 1.06);
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
