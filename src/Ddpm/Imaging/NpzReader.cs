using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Ddpm.Imaging;

/// <summary>
/// Reads the image array of a NumPy .npz (as written by <see cref="NpzWriter"/> or numpy.savez): uint8, C order,
/// shape N×H×W×C (C = 1 or 3) or N×H×W. Returns [N, C, H, W] in [-1, 1].
/// </summary>
internal static partial class NpzReader
{
    public static Tensor Load(string path)
    {
        if (!File.Exists(path)) throw new DdpmException($"{path}: file not found");
        byte[] npy;
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var entry = zip.GetEntry("arr_0.npy") ?? zip.Entries.FirstOrDefault(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal))
                ?? throw new DdpmException($"{path}: the archive holds no .npy array");
            using var s = entry.Open();
            using var buffer = new MemoryStream();
            s.CopyTo(buffer);
            npy = buffer.ToArray();
        }
        catch (InvalidDataException e) { throw new DdpmException($"{path}: not a .npz (zip) file ({e.Message})"); }
        return Parse(npy, path);
    }

    internal static Tensor Parse(byte[] npy, string name)
    {
        if (npy.Length < 10 || npy[0] != 0x93 || Encoding.ASCII.GetString(npy, 1, 5) != "NUMPY")
            throw new DdpmException($"{name}: arr_0 is not a .npy array (bad magic)");
        int major = npy[6];
        int headerStart = major == 1 ? 10 : 12;
        int headerLength = major == 1 ? BitConverter.ToUInt16(npy, 8) : BitConverter.ToInt32(npy, 8);
        if (headerStart + headerLength > npy.Length) throw new DdpmException($"{name}: truncated .npy header");
        var header = Encoding.ASCII.GetString(npy, headerStart, headerLength);
        var descr = DescrPattern().Match(header).Groups[1].Value;
        if (descr is not ("|u1" or "<u1" or ">u1" or "u1"))
            throw new DdpmException($"{name}: arr_0 has dtype '{descr}', expected uint8 ('|u1')");
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
            throw new DdpmException($"{name}: arr_0 is in Fortran order, expected C order");
        var shapeText = ShapePattern().Match(header).Groups[1].Value;
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        bool ok = (shape.Length == 4 && shape[3] is 1 or 3) || shape.Length == 3;
        if (!ok || shape.Any(d => d < 1))
            throw new DdpmException($"{name}: arr_0 has shape ({shapeText}), expected (N, H, W, C) with C = 1 or 3, or (N, H, W)");
        long count = shape.Aggregate(1L, (a, b) => a * b);
        long available = npy.Length - headerStart - headerLength;
        if (available != count)
            throw new DdpmException($"{name}: arr_0 declares {count} bytes but holds {available}");
        var pixels = npy.AsSpan(headerStart + headerLength).ToArray();
        long c = shape.Length == 4 ? shape[3] : 1;
        using var nhwc = tensor(pixels, [shape[0], shape[1], shape[2], c], ScalarType.Byte);
        return nhwc.permute(0, 3, 1, 2).to(ScalarType.Float32).div_(127.5).sub_(1.0).contiguous();
    }

    [GeneratedRegex(@"'descr':\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
