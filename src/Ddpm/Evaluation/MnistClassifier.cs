using Ddpm.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>
/// The evaluator network for sample quality: a small CNN trained on MNIST whose penultimate layer (128
/// ReLU features) is the feature space of the Fréchet distance and precision/recall ("FCD").
/// Two stages of [conv 3×3 → ReLU → conv 3×3 → ReLU → max-pool] (32 then 64 channels; 28 → 14 → 7),
/// FC 3136→128 → ReLU (the features) → dropout → FC 128→10.
/// </summary>
public sealed class MnistClassifier : nn.Module<Tensor, Tensor>
{
    public const int FeatureWidth = 128;
    public const int Classes = 10;

    private readonly ConvNhwc conv1;
    private readonly ConvNhwc conv2;
    private readonly ConvNhwc conv3;
    private readonly ConvNhwc conv4;
    private readonly Linear fc1;
    private readonly Dropout dropout;
    private readonly Linear fc2;

    public MnistClassifier() : base(nameof(MnistClassifier))
    {
        conv1 = new ConvNhwc(1, 32, 3, padding: 1);
        conv2 = new ConvNhwc(32, 32, 3, padding: 1);
        conv3 = new ConvNhwc(32, 64, 3, padding: 1);
        conv4 = new ConvNhwc(64, 64, 3, padding: 1);
        fc1 = nn.Linear(64 * 7 * 7, FeatureWidth);
        dropout = nn.Dropout(0.5);
        fc2 = nn.Linear(FeatureWidth, Classes);
        RegisterComponents();
    }

    /// <summary>Penultimate-layer features [B, 128] of images [B, 1, 28, 28] in [-1, 1].</summary>
    public Tensor Features(Tensor x)
    {
        var h = nn.functional.relu(conv1.forward(x));
        h = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(h)), 2);
        h = nn.functional.relu(conv3.forward(h));
        h = nn.functional.max_pool2d(nn.functional.relu(conv4.forward(h)), 2);
        return nn.functional.relu(fc1.forward(h.reshape(h.shape[0], -1)));
    }

    /// <summary>Logits from features.</summary>
    public Tensor Classify(Tensor features) => fc2.forward(dropout.forward(features));

    public override Tensor forward(Tensor x) => Classify(Features(x));

    /// <summary>Loads the weights a <see cref="ClassifierTraining"/> run saved; a foreign file is a clear error.</summary>
    public static MnistClassifier Load(string path)
    {
        if (!File.Exists(path)) throw new DdpmException($"{path}: classifier weights not found (train them with: ddpm eval train-classifier)");
        var model = new MnistClassifier();
        try { model.load(path, strict: true); }
        catch (Exception e) { throw new DdpmException($"{path}: not MNIST classifier weights ({e.Message.Split('\n')[0].Trim()})"); }
        model.eval();
        return model;
    }
}
