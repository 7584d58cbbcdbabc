using System.Text.Json;
using Ddpm.Data;
using Ddpm.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ddpm.Evaluation;

/// <summary>
/// What an evaluator was trained on; written beside its weights (<c>name.json</c> next to <c>name.bin</c>) with how it
/// scored. Files without the shape fields are the MNIST evaluator: 1×28×28, 10 classes.
/// </summary>
internal sealed record ClassifierReport
{
    public int Epochs { get; init; }
    public int TrainImages { get; init; }
    /// <summary>Accuracy on the held-out images (the IDX test split, or the held-out part of an image folder).</summary>
    public double TestAccuracy { get; init; }
    public int TestImages { get; init; }
    public double Seconds { get; init; }
    public long Seed { get; init; }
    public int Channels { get; init; } = 1;
    public int ImageSize { get; init; } = 28;
    public int Classes { get; init; } = 10;
    /// <summary>Class names in label order (null: the labels themselves, e.g. MNIST's digits).</summary>
    public string[]? ClassNames { get; init; }
    /// <summary>The data folder it was trained on.</summary>
    public string? Data { get; init; }

    public string DescribeInput() => $"{ImageSize}x{ImageSize} {(Channels == 1 ? "grayscale" : "RGB")}";

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}

/// <summary>
/// The evaluator network for sample quality: a small CNN trained on the dataset's labels whose penultimate layer (128
/// ReLU features) is the feature space of the Fréchet distance and precision/recall ("FCD"; on MNIST, as in the literature).
/// Two stages of [conv 3×3 → ReLU → conv 3×3 → ReLU → max-pool] (32 then 64 channels; S → S/2 → S/4),
/// FC 64·(S/4)²→128 → ReLU (the features) → dropout → FC 128→classes.
/// </summary>
internal sealed class FeatureClassifier : nn.Module<Tensor, Tensor>
{
    public const int FeatureWidth = 128;

    private readonly MixedConv2d conv1;
    private readonly MixedConv2d conv2;
    private readonly MixedConv2d conv3;
    private readonly MixedConv2d conv4;
    private readonly Linear fc1;
    private readonly Dropout dropout;
    private readonly Linear fc2;

    /// <summary>The input shape and classes (the report of a trained one, or the shape to train).</summary>
    public ClassifierReport Info { get; internal set; }
    public int Classes => Info.Classes;

    public FeatureClassifier(ClassifierReport info) : base(nameof(FeatureClassifier))
    {
        if (info.Channels is not (1 or 3) || info.ImageSize < 4 || info.Classes < 2)
            throw new DdpmException($"an evaluator needs 1 or 3 channels, images of at least 4x4 and at least 2 classes, got {info.Channels} channel(s), {info.ImageSize}x{info.ImageSize}, {info.Classes} class(es)");
        Info = info;
        int quarter = info.ImageSize / 2 / 2; // two floor-halving max-pools
        conv1 = new MixedConv2d(info.Channels, 32, 3, padding: 1);
        conv2 = new MixedConv2d(32, 32, 3, padding: 1);
        conv3 = new MixedConv2d(32, 64, 3, padding: 1);
        conv4 = new MixedConv2d(64, 64, 3, padding: 1);
        fc1 = nn.Linear(64 * quarter * quarter, FeatureWidth);
        dropout = nn.Dropout(0.5);
        fc2 = nn.Linear(FeatureWidth, info.Classes);
        RegisterComponents();
    }

    /// <summary>Penultimate-layer features [B, 128] of images [B, C, S, S] in [-1, 1].</summary>
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

    /// <summary>
    /// Where the evaluator of a data folder is kept by default: <c>data/evaluator/NAME-cnn.bin</c> under the working folder, NAME
    /// the data folder's name (so data/mnist gives the committed MNIST evaluator, and a read-only dataset folder still works);
    /// when that file does not exist (nor beside the tool), an <c>evaluator/NAME-cnn.bin</c> beside the data folder, which is
    /// where the repository keeps MNIST's (a program using the library from another folder finds it so).
    /// </summary>
    public static string DefaultPath(string dataDirectory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(BundledFiles.Resolve(dataDirectory)));
        var name = Path.GetFileName(full).ToLowerInvariant();
        var file = $"{(name.Length == 0 ? "data" : name)}-cnn.bin";
        var relative = Path.Combine("data", "evaluator", file);
        var sibling = Path.Combine(Path.GetDirectoryName(full) ?? "", "evaluator", file);
        return !File.Exists(BundledFiles.Resolve(relative)) && File.Exists(sibling) ? sibling : relative;
    }

    /// <summary>The report written beside weights at <paramref name="weightsPath"/>.</summary>
    public static string ReportPath(string weightsPath) => Path.ChangeExtension(weightsPath, ".json");

    /// <summary>Saves the weights and, beside them, the report that says what they take.</summary>
    public void Save(string weightsPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(weightsPath));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        this.save(weightsPath);
        File.WriteAllText(ReportPath(weightsPath), JsonSerializer.Serialize(Info, ClassifierReport.Json));
    }

    /// <summary>Loads weights saved by <see cref="Save"/> (the shape from the report beside them); a foreign file is a clear error.</summary>
    public static FeatureClassifier Load(string path)
    {
        path = BundledFiles.Resolve(path);
        if (!File.Exists(path)) throw new DdpmException($"{path}: classifier weights not found (train them with: ddpm eval train-classifier --data DIR --out {path})");
        var info = new ClassifierReport();
        var reportPath = ReportPath(path);
        if (File.Exists(reportPath))
        {
            try { info = JsonSerializer.Deserialize<ClassifierReport>(File.ReadAllText(reportPath), ClassifierReport.Json) ?? info; }
            catch (JsonException e) { throw new DdpmException($"{reportPath}: not a classifier report ({e.Message.Split('\n')[0].Trim()})"); }
        }
        var model = new FeatureClassifier(info);
        try { model.load(path, strict: true); }
        catch (Exception e) { throw new DdpmException($"{path}: not weights of a {info.DescribeInput()}, {info.Classes}-class evaluator ({e.Message.Split('\n')[0].Trim()})"); }
        model.eval();
        return model;
    }
}
