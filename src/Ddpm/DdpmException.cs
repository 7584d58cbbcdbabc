namespace Ddpm;

/// <summary>
/// A problem the user can fix (bad file, bad option value, foreign checkpoint). The CLI prints its
/// message as a single line and exits non-zero, without a stack trace.
/// </summary>
public class DdpmException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The request itself is invalid: a value or a combination of settings that no input could make work (e.g. a prediction
/// type for a non-Gaussian noise process). The CLI exits with its usage code (2) for these, as for a bad command line.
/// </summary>
public sealed class DdpmUsageException(string message) : DdpmException(message);
