using System.Globalization;

namespace Ddpm.Training;

/// <summary>
/// loss.csv of a run: one row per optimizer step. On resume, rows past the checkpoint's step are
/// dropped (they belong to work that was lost), so the file always matches the weights. The resident memory
/// column shows whether memory stays flat over a long run.
/// </summary>
internal sealed class LossLog : IDisposable
{
    public const string FileName = "loss.csv";
    public const string Header = "step,epoch,loss,lr,elapsed_s,rss_mib";
    private readonly StreamWriter _writer;

    private LossLog(StreamWriter writer) => _writer = writer;

    public static LossLog Open(string runDir, long keepThroughStep)
    {
        var path = Path.Combine(runDir, FileName);
        var kept = new List<string> { Header };
        if (File.Exists(path))
            kept.AddRange(File.ReadLines(path).Skip(1).Where(line =>
                long.TryParse(line.Split(',', 2)[0], CultureInfo.InvariantCulture, out var step) && step <= keepThroughStep));
        File.WriteAllLines(path, kept);
        return new LossLog(new StreamWriter(path, append: true));
    }

    public void Append(long step, int epoch, double loss, double lr, double elapsedSeconds, double residentMiB) =>
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step},{epoch},{loss:G6},{lr:G4},{elapsedSeconds:F2},{residentMiB:F0}"));

    public void Flush() => _writer.Flush();

    /// <summary>(step, loss) rows of a run's loss.csv.</summary>
    public static List<(long Step, double Loss)> Read(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return [];
        return File.ReadLines(path).Skip(1).Select(l => l.Split(','))
            .Where(f => f.Length >= 3)
            .Select(f => (long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture))).ToList();
    }

    public void Dispose() => _writer.Dispose();
}
