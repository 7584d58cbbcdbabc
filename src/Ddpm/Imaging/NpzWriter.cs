using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>
/// Writes samples as a NumPy .npz archive holding one uint8 array <c>arr_0</c> of shape N×H×W×C,
/// the layout OpenAI's diffusion evaluation tools read (what numpy.savez writes: an uncompressed zip
/// of .npy files, format version 1.0); and named float32/int64 arrays (<see cref="SaveArrays"/>).
/// </summary>
internal static class NpzWriter
{
    /// <param name="images">[N, C, H, W] in [-1, 1].</param>
    public static void Save(Tensor images, string path)
    {
        if (images.dim() != 4) throw new ArgumentException("expected [N, C, H, W] images", nameof(images));
        long n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        byte[] nhwc;
        using (var nhwcView = images.permute(0, 2, 3, 1))
            nhwc = ImageBytes.ToBytes(nhwcView); // logical order N, H, W, C
        Write(path, [("arr_0", "|u1", [n, h, w, c], nhwc)]);
    }

    /// <summary>Named float32 or int64 arrays (numpy's <c>&lt;f4</c> and <c>&lt;i8</c>), as <c>numpy.savez(path, name=array, ...)</c> writes them.</summary>
    public static void SaveArrays(string path, IReadOnlyList<(string Name, Tensor Array)> arrays) =>
        Write(path, [.. arrays.Select(a =>
        {
            using var c = a.Array.detach().cpu().contiguous();
            var descr = c.dtype switch
            {
                ScalarType.Float32 => "<f4",
                ScalarType.Int64 => "<i8",
                _ => throw new ArgumentException($"{a.Name}: only float32 and int64 arrays are written, got {c.dtype}", nameof(arrays)),
            };
            return (a.Name, descr, c.shape, c.bytes.ToArray()); // little-endian, as on every platform libtorch runs on
        })]);

    private static void Write(string path, IReadOnlyList<(string Name, string Descr, long[] Shape, byte[] Data)> arrays)
    {
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var tmp = path + ".tmp";
            using (var file = File.Create(tmp))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
                foreach (var (name, descr, shape, data) in arrays)
                {
                    var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                    using var s = entry.Open();
                    s.Write(NpyHeader(shape, descr));
                    s.Write(data);
                }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DdpmException($"{path}: cannot write ({e.Message})");
        }
    }

    /// <summary>.npy v1.0 header for a C-ordered array (default uint8), padded with spaces to a multiple of 64 bytes.</summary>
    internal static byte[] NpyHeader(long[] shape, string descr = "|u1")
    {
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}{(shape.Length == 1 ? "," : "")}), }}";
        int unpadded = 10 + dict.Length + 1;
        int total = (unpadded + 63) / 64 * 64;
        var header = dict + new string(' ', total - unpadded) + "\n";
        var bytes = new byte[10 + header.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = 1; bytes[7] = 0;
        BitConverter.TryWriteBytes(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        return bytes;
    }
}
