namespace Ddpm.Training;

/// <summary>
/// One training process per run folder: an exclusive lock on <c>RUN/.lock</c> held while the trainer lives. The lock is the
/// operating system's (.NET takes flock on Unix for <see cref="FileShare.None"/>), so a killed process releases it with its
/// file handles and never leaves the run stuck; <c>.lock.owner</c> names the holder for the message a second process prints.
/// </summary>
internal sealed class RunLock : IDisposable
{
    public const string LockFile = ".lock";
    public const string OwnerFile = ".lock.owner";

    private readonly FileStream _stream;
    private readonly string _ownerPath;

    private RunLock(FileStream stream, string ownerPath)
    {
        _stream = stream;
        _ownerPath = ownerPath;
    }

    /// <summary>Takes the run folder's lock (creating the folder), or throws a one-line error naming the process that holds it.</summary>
    public static RunLock Acquire(string runDir)
    {
        try { Directory.CreateDirectory(runDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new DdpmException($"{runDir}: cannot create the run folder ({e.Message})"); }
        var path = Path.Combine(runDir, LockFile);
        var ownerPath = Path.Combine(runDir, OwnerFile);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            string owner = "another process";
            try { owner = File.ReadAllText(ownerPath).Trim(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw new DdpmException($"{runDir}: another training process is using this run ({owner}); wait for it to end or stop it first");
        }
        catch (UnauthorizedAccessException e) { throw new DdpmException($"{runDir}: cannot lock the run folder ({e.Message})"); }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        File.WriteAllText(ownerPath, $"process {Environment.ProcessId} ({self.ProcessName}) since {DateTime.Now:yyyy-MM-dd HH:mm:ss}");
        return new RunLock(stream, ownerPath);
    }

    public void Dispose()
    {
        try { File.Delete(_ownerPath); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
    }
}
