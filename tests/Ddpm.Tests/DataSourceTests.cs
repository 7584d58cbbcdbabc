using Ddpm.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Which data a folder holds: IDX told apart by content, labels checked, image folders split for the evaluator, odd files.</summary>
public class DataSourceTests
{
    public DataSourceTests() => TestSupport.Init();

    /// <summary>IDX images (a fixed byte pattern) and the given labels, gzip-compressed, as MNIST's files are named.</summary>
    internal static void WriteIdx(string dir, string prefix, byte[] labels, int size = 4)
    {
        Directory.CreateDirectory(dir);
        var pixels = Enumerable.Range(0, labels.Length * size * size).Select(i => (byte)(i * 7 % 256)).ToArray();
        IdxFile.Write(Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz"), new IdxArray([labels.Length, size, size], pixels), gzip: true);
        IdxFile.Write(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz"), new IdxArray([labels.Length], labels), gzip: true);
    }

    [Fact]
    public void Fashion_mnist_is_told_from_mnist_by_its_first_labels_and_gets_its_class_names()
    {
        var fashion = TestSupport.TempDir();
        WriteIdx(fashion, "train", [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 1, 4, 6, 8]); // Fashion-MNIST's first 12 training labels, then the rest
        var loaded = DataSources.Load(fashion);
        using (loaded.Data)
        {
            Assert.True(loaded.Labelled);
            Assert.Equal("Trouser", loaded.ClassNames[1]);
            Assert.Equal("Ankle boot", loaded.ClassNames[9]);
            Assert.Equal(10, loaded.ClassCount());
        }
        using var mnist = DataSources.Load(TestSupport.MnistDir, subset: 100).Data;
        Assert.Empty(DataSources.Load(TestSupport.MnistDir, subset: 100).ClassNames); // digits name themselves
        var other = TestSupport.TempDir();
        WriteIdx(other, "train", [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
        using var unknown = DataSources.Load(other).Data;
        Assert.Empty(DataSources.Load(other).ClassNames);
    }

    [Fact]
    public void A_label_far_above_the_others_is_an_error_for_conditional_training_not_a_201_class_model()
    {
        var dir = TestSupport.TempDir();
        var labels = Enumerable.Range(0, 20).Select(i => (byte)(i % 10)).ToArray();
        labels[7] = 200;
        WriteIdx(dir, "train", labels);
        var loaded = DataSources.Load(dir);
        using (loaded.Data)
        {
            var e = Assert.Throws<DdpmException>(() => loaded.ClassCount());
            Assert.Contains("labels go up to 200", e.Message);
            Assert.Contains("190 value(s) below it never occur (first: 10)", e.Message); // 0..9 present (7 also at i = 17), 10..199 missing
        }
    }

    [Fact]
    public void A_labelled_image_folder_holds_out_a_tenth_for_the_evaluator_and_an_unlabelled_one_is_refused()
    {
        var dir = TestSupport.TempDir();
        for (int i = 0; i < 30; i++)
            ImageFolderTests.Write(Path.Combine(dir, i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c", $"{i:D2}.png"), 4, 4, (_, _) => new Rgb24((byte)(i * 8), 0, 0));
        var (train, test, names) = DataSources.LoadLabelledSplits(dir);
        using (train)
        using (test)
        {
            Assert.Equal(["a", "b", "c"], names);
            Assert.Equal((27, 3), (train.Count, test.Count));
            // Disjoint and together the whole folder: every image has its own red level.
            var reds = cat([train.Images[.., 0, 0, 0], test.Images[.., 0, 0, 0]]).data<float>().Select(v => (int)Math.Round((v + 1) * 127.5 / 8)).Order();
            Assert.Equal(Enumerable.Range(0, 30), reds);
        }
        var loose = TestSupport.TempDir();
        ImageFolderTests.Write(Path.Combine(loose, "x.png"), 4, 4, (_, _) => new Rgb24(1, 2, 3));
        ImageFolderTests.Write(Path.Combine(loose, "y.png"), 4, 4, (_, _) => new Rgb24(1, 2, 3));
        Assert.Contains("need labelled images", Assert.Throws<DdpmException>(() => DataSources.LoadLabelledSplits(loose)).Message);
    }

    [Fact]
    public void Jpeg_16_bit_png_cmyk_jpeg_and_empty_files_load_or_are_skipped_with_a_reason_and_tiny_classes_warn()
    {
        var dir = TestSupport.TempDir();
        ImageFolderTests.Write(Path.Combine(dir, "big", "plain.png"), 8, 8, (x, _) => new Rgb24((byte)(x * 30), 40, 200));
        using (var jpeg = new Image<Rgb24>(8, 8, new Rgb24(200, 40, 40))) jpeg.SaveAsJpeg(Path.Combine(dir, "big", "photo.jpg"), new JpegEncoder { Quality = 95 });
        using (var deep = new Image<Rgb48>(8, 8, new Rgb48(65535, 0, 32768)))
            deep.SaveAsPng(Path.Combine(dir, "big", "deep.png"), new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Rgb });
        using (var cmyk = new Image<Rgb24>(8, 8, new Rgb24(0, 0, 255))) cmyk.SaveAsJpeg(Path.Combine(dir, "big", "cmyk.jpg"), new JpegEncoder { ColorType = JpegColorType.Cmyk, Quality = 95 });
        File.WriteAllBytes(Path.Combine(dir, "big", "empty.png"), []);
        ImageFolderTests.Write(Path.Combine(dir, "lonely", "only.png"), 8, 8, (_, _) => new Rgb24(0, 0, 0));
        var result = ImageFolder.Load(dir);
        using var data = result.Data;
        Assert.Equal(3, data.Channels);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal(Path.Combine("big", "empty.png"), skipped.File);
        // Files in ordinal order: big/cmyk.jpg, big/deep.png, big/photo.jpg, big/plain.png, lonely/only.png.
        Assert.Equal(5, data.Count);
        Assert.True(data.Images[0, 2].mean().item<float>() > 0.8 && data.Images[0, 0].mean().item<float>() < -0.8, "the CMYK JPEG is not blue");
        Assert.Equal([1f, -1f, 32768 / 65535f * 2 - 1], Enumerable.Range(0, 3).Select(c => data.Images[1, c, 0, 0].item<float>()), new ToleranceComparer(0.01f));
        Assert.True(data.Images[2, 0].mean().item<float>() > 0.5, "the JPEG is not red");
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("lonely (1)", warning);
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }

    [Fact]
    public void Generated_shapes_are_colour_class_folders_of_the_requested_size()
    {
        var dir = Path.Combine(TestSupport.TempDir(), "shapes");
        Assert.Equal(9, ShapesDataset.Write(dir, count: 8, size: 12, seed: 3)); // rounded up to 3 per class
        var result = ImageFolder.Load(dir);
        using var data = result.Data;
        Assert.Equal(["circle", "square", "triangle"], result.ClassNames);
        Assert.Equal(new long[] { 9, 3, 12, 12 }, data.Images.shape);
        Assert.Equal(new long[] { 3, 3, 3 }, data.Labels.bincount(null).data<long>().ToArray());
        // Each image is two colours blended at the edges: the shape's and the background's, so not gray.
        Assert.True(data.Images.std([1]).mean().item<float>() > 0.05);
        // The same seed writes the same files.
        var again = Path.Combine(TestSupport.TempDir(), "shapes");
        ShapesDataset.Write(again, count: 8, size: 12, seed: 3);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "square", "00001.png")), File.ReadAllBytes(Path.Combine(again, "square", "00001.png")));
    }
}

/// <summary>One training process per run folder.</summary>
public class RunLockTests
{
    public RunLockTests() => TestSupport.Init();

    [Fact]
    public void A_second_trainer_on_the_same_run_is_refused_naming_the_holder_and_a_dead_holders_files_do_not_block()
    {
        var run = Path.Combine(TestSupport.TempDir(), "run");
        using (var first = Ddpm.Training.RunLock.Acquire(run))
        {
            var e = Assert.Throws<DdpmException>(() => Ddpm.Training.RunLock.Acquire(run));
            Assert.Contains("another training process is using this run", e.Message);
            Assert.Contains($"process {Environment.ProcessId} (", e.Message);
        }
        using (Ddpm.Training.RunLock.Acquire(run)) { } // released on dispose
        // What a killed process leaves: both files, but no lock held (the OS dropped it with the process).
        File.WriteAllText(Path.Combine(run, Ddpm.Training.RunLock.LockFile), "");
        File.WriteAllText(Path.Combine(run, Ddpm.Training.RunLock.OwnerFile), "process 999999 (ddpm) since 2026-01-01 00:00:00");
        using var again = Ddpm.Training.RunLock.Acquire(run);
        Assert.Contains($"process {Environment.ProcessId}", File.ReadAllText(Path.Combine(run, Ddpm.Training.RunLock.OwnerFile)));
    }
}

public class ClassifierScheduleTests
{
    [Theory]
    [InlineData(60000, 6)]   // MNIST: 469 batches an epoch, 6 epochs are 2,814 ≥ 2,000 (the committed evaluator's run)
    [InlineData(2700, 91)]   // 22 batches an epoch: ⌈2,000 / 22⌉
    [InlineData(100, 2000)]  // one batch an epoch
    public void Small_datasets_get_enough_epochs_for_two_thousand_batches(int images, int epochs) =>
        Assert.Equal(epochs, Ddpm.Evaluation.ClassifierTraining.EpochsFor(images));
}
