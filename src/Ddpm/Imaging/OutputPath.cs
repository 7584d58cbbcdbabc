namespace Ddpm.Imaging;

internal static class OutputPath
{
    /// <summary>Fails early, before minutes of sampling, when an output file cannot be written.</summary>
    public static void EnsureWritable(string path)
    {
        try
        {
            if (Directory.Exists(path)) throw new DdpmException($"{path}: is a folder, expected a file name");
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var probe = path + ".probe";
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DdpmException($"{path}: cannot write ({e.Message})");
        }
    }
}
