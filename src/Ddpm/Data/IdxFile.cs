using System.Buffers.Binary;
using System.IO.Compression;

namespace Ddpm.Data;

/// <summary>An IDX array of unsigned bytes (LeCun's MNIST format): dimensions plus row-major data.</summary>
internal sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    public int Count => Dimensions[0];
}

/// <summary>
/// Reads and writes IDX files of unsigned bytes, raw or gzip-compressed (detected by content, not by name).
/// Header: two zero bytes, type code 0x08 (ubyte), dimension count, then big-endian int32 sizes.
/// </summary>
internal static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    /// <param name="expectedRank">3 for images (idx3), 1 for labels (idx1).</param>
    public static IdxArray Read(string path, int expectedRank)
    {
        if (!File.Exists(path)) throw new DdpmException($"{path}: file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new DdpmException($"{path}: cannot read ({e.Message})"); }
        try { bytes = Decompress(bytes); }
        catch (Exception e) when (e is InvalidDataException or IOException) { throw new DdpmException($"{path}: corrupt gzip data ({e.Message})"); }
        return Parse(bytes, expectedRank, path);
    }

    public static IdxArray Parse(byte[] bytes, int expectedRank, string name)
    {
        if (bytes.Length < 4) throw new DdpmException($"{name}: too short to be an IDX file ({bytes.Length} bytes)");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new DdpmException($"{name}: bad IDX magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):X8} (expected 0x0000{UnsignedByte:X2}{expectedRank:X2})");
        if (bytes[2] != UnsignedByte)
            throw new DdpmException($"{name}: IDX data type 0x{bytes[2]:X2} is not unsigned byte (0x08)");
        int rank = bytes[3];
        if (rank != expectedRank)
            throw new DdpmException($"{name}: IDX file has {rank} dimension(s), expected {expectedRank} ({(expectedRank == 3 ? "images" : "labels")})");
        int header = 4 + 4 * rank;
        if (bytes.Length < header) throw new DdpmException($"{name}: truncated IDX header");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (dims[i] <= 0) throw new DdpmException($"{name}: dimension {i} has size {dims[i]}");
            count *= dims[i];
        }
        long actual = bytes.Length - header;
        if (actual != count)
            throw new DdpmException($"{name}: header declares {string.Join("x", dims)} = {count} bytes of data but the file holds {actual}");
        return new IdxArray(dims, bytes.AsSpan(header).ToArray());
    }

    public static void Write(string path, IdxArray array, bool gzip)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write([0, 0, UnsignedByte, (byte)array.Dimensions.Length]);
        Span<byte> dim = stackalloc byte[4];
        foreach (var d in array.Dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(dim, d);
            stream.Write(dim);
        }
        stream.Write(array.Data);
    }

    private static byte[] Decompress(byte[] bytes)
    {
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gz.CopyTo(output);
        return output.ToArray();
    }
}
