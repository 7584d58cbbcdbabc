namespace Ddpm.Cli;

/// <summary>Process exit codes, documented in the README.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A run failed on its inputs: missing or corrupt data, foreign checkpoint, unwritable output, diverged training.</summary>
    public const int Failure = 1;
    /// <summary>The command line is invalid: unknown command or option, bad option value.</summary>
    public const int Usage = 2;
    /// <summary>Stopped by Ctrl+C or SIGTERM after saving a checkpoint (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
