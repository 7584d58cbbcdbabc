namespace Ddpm.Data;

/// <summary>
/// Files shipped beside the tool (<c>data/mnist</c>, <c>data/evaluator</c>): a relative path that does not exist under the
/// working folder is looked up beside the installed tool, so <c>ddpm train</c> and <c>ddpm eval</c> work from any folder
/// with their defaults. A path that exists where the user is always wins.
/// </summary>
internal static class BundledFiles
{
    public static string Resolve(string path)
    {
        if (Path.IsPathRooted(path) || File.Exists(path) || Directory.Exists(path)) return path;
        var beside = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(beside) || Directory.Exists(beside) ? beside : path;
    }
}
