namespace Ddpm.Cli.Commands;

/// <summary>Class lists on the command line: "7", "0-9", "1,4,7".</summary>
internal static class ClassList
{
    public static bool TryParse(string text, out int[] classes)
    {
        classes = [];
        var range = text.Split('-', StringSplitOptions.TrimEntries);
        if (range.Length == 2 && int.TryParse(range[0], out int from) && int.TryParse(range[1], out int to) && from <= to)
        {
            classes = Enumerable.Range(from, to - from + 1).ToArray();
            return true;
        }
        return NoiseDemoCommand.TryParseSteps(text, out classes);
    }

    /// <summary>A one-line error naming the option unless the model is class-conditional.</summary>
    public static void RequireConditional(ModelInfo model, string option)
    {
        if (!model.IsConditional)
            throw new DdpmException($"{option} needs a class-conditional checkpoint (train with --conditional); this one is unconditional");
    }

    /// <summary>The classes, if the model is conditional and knows them all; otherwise a one-line error.</summary>
    public static IReadOnlyList<int> Check(IReadOnlyList<int> classes, ModelInfo model, string option)
    {
        RequireConditional(model, option);
        if (classes.FirstOrDefault(c => c < 0 || c >= model.ClassCount, -1) is var bad and >= 0)
            throw new DdpmUsageException($"{option}: class {bad} is outside 0..{model.ClassCount - 1}");
        return classes;
    }
}
