using Ddpm.Data;
using static TorchSharp.torch;

namespace Ddpm.Tests;

public class IdxTests
{
    public IdxTests() => TestSupport.Init();

    private static (IdxArray Images, IdxArray Labels) Sample(int n = 5, int h = 4, int w = 3)
    {
        var pixels = Enumerable.Range(0, n * h * w).Select(i => (byte)(i * 7 % 256)).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        return (new IdxArray([n, h, w], pixels), new IdxArray([n], labels));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Round_trip_of_a_generated_file(bool gzip)
    {
        var dir = TestSupport.TempDir();
        var (images, labels) = Sample();
        IdxFile.Write(Path.Combine(dir, "train-images-idx3-ubyte" + (gzip ? ".gz" : "")), images, gzip);
        IdxFile.Write(Path.Combine(dir, "train-labels-idx1-ubyte" + (gzip ? ".gz" : "")), labels, gzip);

        var read = IdxFile.Read(Path.Combine(dir, "train-images-idx3-ubyte" + (gzip ? ".gz" : "")), 3);
        Assert.Equal(images.Dimensions, read.Dimensions);
        Assert.Equal(images.Data, read.Data);

        using var data = ImageDataset.Load(dir);
        Assert.Equal(new long[] { 5, 1, 4, 3 }, data.Images.shape);
        Assert.Equal(-1f, data.Images[0, 0, 0, 0].item<float>());                // byte 0 → −1
        Assert.Equal(7 / 127.5f - 1, data.Images[0, 0, 0, 1].item<float>(), 6);  // byte 7
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, data.Labels.data<long>().ToArray());
    }

    private static string WriteBytes(byte[] bytes)
    {
        var path = Path.Combine(TestSupport.TempDir(), "x-idx3-ubyte");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Header(byte type, byte rank, params int[] dims)
    {
        var bytes = new List<byte> { 0, 0, type, rank };
        foreach (var d in dims) bytes.AddRange(BitConverter.GetBytes(d).Reverse());
        return bytes.ToArray();
    }

    [Fact]
    public void Wrong_magic_is_named()
    {
        var e = Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([0x12, 0x34, 8, 3, 0, 0, 0, 1]), 3));
        Assert.Contains("bad IDX magic number 0x12340803", e.Message);
        Assert.Contains("x-idx3-ubyte", e.Message);
    }

    [Fact]
    public void Wrong_data_type_is_named()
    {
        var e = Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([.. Header(0x0D, 3, 1, 1, 1), 0, 0, 0, 0]), 3));
        Assert.Contains("data type 0x0D is not unsigned byte", e.Message);
    }

    [Fact]
    public void Wrong_rank_is_named()
    {
        var e = Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([.. Header(8, 1, 4), 1, 2, 3, 4]), 3));
        Assert.Contains("has 1 dimension(s), expected 3 (images)", e.Message);
    }

    [Fact]
    public void Truncated_data_is_named_with_sizes()
    {
        var e = Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([.. Header(8, 3, 2, 2, 2), 1, 2, 3]), 3));
        Assert.Contains("declares 2x2x2 = 8 bytes of data but the file holds 3", e.Message);
    }

    [Fact]
    public void Extra_data_is_named_too()
    {
        var e = Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([.. Header(8, 1, 2), 1, 2, 3]), 1));
        Assert.Contains("= 2 bytes of data but the file holds 3", e.Message);
    }

    [Fact]
    public void Truncated_header_and_missing_file_and_corrupt_gzip()
    {
        Assert.Contains("truncated IDX header", Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([0, 0, 8, 3, 0, 0]), 3)).Message);
        Assert.Contains("file not found", Assert.Throws<DdpmException>(() => IdxFile.Read("/nonexistent/x.gz", 3)).Message);
        Assert.Contains("corrupt gzip data", Assert.Throws<DdpmException>(() => IdxFile.Read(WriteBytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]), 3)).Message);
    }

    [Fact]
    public void Image_and_label_counts_must_match()
    {
        var dir = TestSupport.TempDir();
        var (images, _) = Sample(n: 5);
        IdxFile.Write(Path.Combine(dir, "train-images-idx3-ubyte"), images, false);
        IdxFile.Write(Path.Combine(dir, "train-labels-idx1-ubyte"), new IdxArray([4], [1, 2, 3, 4]), false);
        var e = Assert.Throws<DdpmException>(() => ImageDataset.Load(dir));
        Assert.Contains("5 images but", e.Message);
        Assert.Contains("has 4 labels", e.Message);
    }

    [Fact]
    public void Bundled_mnist_loads_with_the_right_counts_and_label_histogram()
    {
        using var train = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Train);
        using var test = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test);
        Assert.Equal(new long[] { 60000, 1, 28, 28 }, train.Images.shape);
        Assert.Equal(10000, test.Count);
        // The published MNIST class counts.
        Assert.Equal(new long[] { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 }, train.Labels.bincount(null, 10).data<long>().ToArray());
        Assert.Equal(new long[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 }, test.Labels.bincount(null, 10).data<long>().ToArray());
        Assert.Equal(-1f, train.Images.min().item<float>());
        Assert.Equal(1f, train.Images.max().item<float>());
    }

    [Fact]
    public void Subset_keeps_the_first_images()
    {
        using var all = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test);
        using var some = ImageDataset.Load(TestSupport.MnistDir, DatasetSplit.Test, subset: 10);
        Assert.Equal(10, some.Count);
        Assert.True(all.Images.narrow(0, 0, 10).eq(some.Images).all().item<bool>());
    }
}
