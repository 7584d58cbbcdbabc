using Ddpm.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>
/// Trains the evaluator CNN: Adam, cross-entropy, batch 128, random shifts of ±2 px per batch; the learning rate 1e-3 falls
/// ×0.6 at each of <see cref="DecayStages"/> equal stages of the run (on MNIST's 6 epochs: once per epoch, as the committed
/// evaluator was trained). A small dataset gets more epochs, so that the network sees at least <see cref="MinSteps"/> batches.
/// </summary>
internal static class ClassifierTraining
{
    public const int DefaultEpochs = 6;
    public const int DecayStages = 6;
    /// <summary>Fewer steps leave the CNN undertrained: 6 epochs of 2,700 images (132 steps) scored 67 % on three shapes.</summary>
    public const int MinSteps = 2000;
    public const int BatchSize = 128;

    /// <summary>Epochs for a dataset of <paramref name="count"/> images: <see cref="DefaultEpochs"/>, or more to reach <see cref="MinSteps"/>.</summary>
    public static int EpochsFor(int count) => Math.Max(DefaultEpochs, (MinSteps + StepsPerEpoch(count) - 1) / StepsPerEpoch(count));

    private static int StepsPerEpoch(int count) => Math.Max(1, (count + BatchSize - 1) / BatchSize);

    /// <summary>Trains on <paramref name="train"/>, scores on <paramref name="test"/>, and saves the weights with their report beside them.</summary>
    /// <param name="classNames">Stored in the report (null for MNIST's digits).</param>
    /// <param name="epochs">Null: <see cref="EpochsFor"/> the training set.</param>
    public static ClassifierReport Train(ImageDataset train, ImageDataset test, string outPath, int? epochs = null,
        long seed = 0, IProgress<(int Epoch, int Step, int Steps, double Loss)>? progress = null, IReadOnlyList<string>? classNames = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (test.Channels != train.Channels || test.Height != train.Height || test.Width != train.Width)
            throw new DdpmException($"{test.Source}: test images are {test.Channels}x{test.Height}x{test.Width}, training images {train.Channels}x{train.Height}x{train.Width}");
        if (train.Height != train.Width) throw new DdpmException($"{train.Source}: the evaluator needs square images, got {train.Height}x{train.Width}");
        int classes = (int)Math.Max(train.Labels.max().item<long>(), test.Labels.max().item<long>()) + 1;
        int runEpochs = epochs ?? EpochsFor(train.Count);
        random.manual_seed(seed);
        using var model = new FeatureClassifier(new ClassifierReport
        {
            Channels = train.Channels, ImageSize = train.Height, Classes = classes, ClassNames = classNames?.ToArray(), Data = train.Source,
        });
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        using var g = new Generator((ulong)seed);
        const int batch = BatchSize;
        int steps = StepsPerEpoch(train.Count);
        for (int epoch = 0; epoch < runEpochs; epoch++)
        {
            foreach (var group in optimizer.ParamGroups) group.LearningRate = 1e-3 * Math.Pow(0.6, epoch * DecayStages / runEpochs);
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
        model.Info = model.Info with
        {
            Epochs = runEpochs, TrainImages = train.Count, TestImages = test.Count, TestAccuracy = accuracy, Seconds = clock.Elapsed.TotalSeconds, Seed = seed,
        };
        model.Save(outPath);
        return model.Info;
    }

    /// <summary>Rolls each batch by a random offset in −2..2 pixels (background is −1, so the roll wraps only background).</summary>
    private static Tensor Shift(Tensor x, Generator g)
    {
        var d = randint(-2, 3, [2], generator: g).data<long>().ToArray();
        return x.roll([d[0], d[1]], [2, 3]);
    }

    public static double Accuracy(FeatureClassifier model, ImageDataset data)
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
