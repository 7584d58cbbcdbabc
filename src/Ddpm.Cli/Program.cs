using Ddpm.Data; using Ddpm.Model; using Ddpm.Training; using Ddpm.Runtime;
using TorchSharp; using static TorchSharp.torch;
TorchRuntime.Initialize();
Console.WriteLine($"tuned={TorchRuntime.AllocatorTuned} threads={get_num_threads()}");
var data = ImageDataset.Load("data/mnist", DatasetSplit.Train, subset: 4096);
foreach (var preset in args)
{
  var cfg = new RunConfig { Model = UNetConfig.FromPreset(preset), Diffusion = new(), Data = new(), Training = new() { Seed = 1 } };
  using var tr = Trainer.Create("/tmp/exp-" + preset, cfg, data);
  Console.WriteLine($"{preset}: params={tr.Model.ParameterCount()}");
  var sw = System.Diagnostics.Stopwatch.StartNew();
  for (int i = 0; i < 12; i++) {
    if (i == 2) sw.Restart();
    using var sc = NewDisposeScope();
    var x0 = data.Images.narrow(0, (i * 128) % 3968, 128);
    var l = tr.TrainStep(x0);
    Console.Write($"{l:F3} ");
  }
  Console.WriteLine($"\n{preset}: {10 * 128 / sw.Elapsed.TotalSeconds:F1} img/s train");
  sw.Restart();
  using (no_grad()) { tr.Model.eval(); for (int i = 0; i < 10; i++) { using var sc = NewDisposeScope(); tr.Model.forward(randn(64,1,28,28), full(64, 500L, ScalarType.Int64)); } }
  Console.WriteLine($"{preset}: {10 * 64 / sw.Elapsed.TotalSeconds:F1} img-steps/s sample (batch 64)");
}
