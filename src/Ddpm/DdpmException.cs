namespace Ddpm;

/// <summary>
/// A problem the user can fix (bad file, bad option value, foreign checkpoint). The CLI prints its
/// message as a single line and exits non-zero, without a stack trace.
/// </summary>
public class DdpmException(string message, Exception? inner = null) : Exception(message, inner);
