namespace Ddpm.Runtime;

/// <summary>This process's resident memory, for the memory-flatness checks of training and <c>ddpm bench</c>.</summary>
internal static class ProcessMemory
{
    /// <summary>Peak (VmHWM) and current (VmRSS) resident memory in MiB, from /proc/self/status (elsewhere: NaN and the working set).</summary>
    public static (double Peak, double Current) Resident()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return (double.NaN, Environment.WorkingSet / 1048576.0);
        double peak = double.NaN, current = double.NaN;
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = KiB(line) / 1024;
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) current = KiB(line) / 1024;
        }
        return (peak, current);
    }

    private static double KiB(string line) =>
        double.Parse(line.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
