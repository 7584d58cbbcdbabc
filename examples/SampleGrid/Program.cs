// Samples a grid of digits from a model that `ddpm train` (or Ddpm.TrainingRun) wrote, using only the Ddpm.Core package.
//   dotnet run --project examples/SampleGrid -- RUN_FOLDER [OUT.png]
using Ddpm;

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: SampleGrid RUN_FOLDER [OUT.png]");
    return 2;
}
try
{
    using var model = DiffusionModel.Load(args[0]);
    var info = model.Info;
    var request = new GenerationRequest
    {
        Count = 8,
        Seed = 1,
        // A conditional model: one row per class; an unconditional one: 8 images.
        ClassRows = info.IsConditional ? [.. Enumerable.Range(0, Math.Min(info.ClassCount, 4))] : null,
    };
    using var images = model.Generate(request, new Progress<SamplingProgress>(p => { if (p.Step == p.Steps) Console.Write('.'); }));
    var path = args.Length > 1 ? args[1] : "grid.png";
    images.SavePng(path, columns: 8, scale: 2);
    Console.WriteLine($"\nWrote {path}: {images.Count} images from {info.Summary} ({model.DescribeSampler()})");
    return 0;
}
catch (DdpmException e)
{
    Console.Error.WriteLine($"SampleGrid: {e.Message}");
    return 1;
}
