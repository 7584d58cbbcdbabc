using Ddpm.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Evaluation;

public sealed record ClassifierReport(int Epochs, int TrainImages, double TestAccuracy, double Seconds, long Seed);

/// <summary>Trains the evaluator CNN: Adam (lr 1e-3, ×0.6 per epoch), cross-entropy, batch 128, random shifts of ±2 px per batch.</summary>
public static class ClassifierTraining
{
    public static ClassifierReport Train(ImageDataset train, ImageDataset test, string outPath, int epochs = 6,
        long seed = 0, IProgress<(int Epoch, int Step, int Steps, double Loss)>? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        random.manual_seed(seed);
        using var model = new MnistClassifier();
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        using var g = new Generator((ulong)seed);
        const int batch = 128;
        int steps = (train.Count + batch - 1) / batch;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            foreach (var group in optimizer.ParamGroups) group.LearningRate = 1e-3 * Math.Pow(0.6, epoch);
            using var order = randperm(train.Count, generator: g);
            model.train();
            for (int s = 0; s < steps; s++)
            {
                using var scope = NewDisposeScope();
                var idx = order.narrow(0, (long)s * batch, Math.Min(batch, train.Count - (long)s * batch));
                var x = Shift(train.Images.index_select(0, idx), g);
                var loss = nn.functional.cross_entropy(model.forward(x), train.Labels.index_select(0, idx));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                if (s % 50 == 0 || s == steps - 1) progress?.Report((epoch + 1, s + 1, steps, loss.item<float>()));
            }
        }
        model.eval();
        double accuracy = Accuracy(model, test);
        var dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        model.save(outPath);
        return new ClassifierReport(epochs, train.Count, accuracy, clock.Elapsed.TotalSeconds, seed);
    }

    /// <summary>Rolls each batch by a random offset in −2..2 pixels (background is −1, so the roll wraps only background).</summary>
    private static Tensor Shift(Tensor x, Generator g)
    {
        var d = randint(-2, 3, [2], generator: g).data<long>().ToArray();
        return x.roll([d[0], d[1]], [2, 3]);
    }

    public static double Accuracy(MnistClassifier model, ImageDataset data)
    {
        using var _ = no_grad();
        long correct = 0;
        for (long start = 0; start < data.Count; start += 1000)
        {
            using var scope = NewDisposeScope();
            long n = Math.Min(1000, data.Count - start);
            var predicted = model.forward(data.Images.narrow(0, start, n)).argmax(1);
            correct += predicted.eq(data.Labels.narrow(0, start, n)).sum().item<long>();
        }
        return (double)correct / data.Count;
    }
}
