using static TorchSharp.torch;

namespace Ddpm.Runtime;

/// <summary>
/// Where tensors live. The library runs a model's work inside a <see cref="DeviceScope"/>, libtorch's default device for every
/// tensor created without one (TorchSharp's <c>set_default_device</c>), so schedules' tensors, noise, embeddings and labels
/// land where the model's parameters are; data batches are moved there explicitly, and images come back to the CPU where they
/// are written.
/// </summary>
internal static class Devices
{
    public static readonly IReadOnlyList<string> Names = ["auto", "cpu", "cuda", "cuda:N"];

    /// <summary>"auto" (CUDA where available, else the CPU), "cpu", "cuda", "cuda:N"; "meta" (shapes only) for tests.</summary>
    public static Device Resolve(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "meta") return new Device(TorchSharp.DeviceType.META);
        bool available = cuda.is_available();
        if (n == "auto") return available ? CUDA : CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!available)
                throw new DdpmException($"device '{name}': CUDA is not available (this build uses TorchSharp's CPU backend, or no GPU was found; see docs/platform.md)");
            if (n == "cuda") return CUDA;
            if (!int.TryParse(n[5..], out int index) || index < 0 || index >= cuda.device_count())
                throw new DdpmException($"device '{name}': CUDA devices here are 0..{cuda.device_count() - 1}");
            return new Device(TorchSharp.DeviceType.CUDA, index);
        }
        throw new DdpmException($"unknown device '{name}' (choose from {string.Join(", ", Names)})");
    }

    /// <summary>A random generator for work on <paramref name="device"/>: libtorch's CUDA kernels need a CUDA generator; the CPU's
    /// (and meta's, which draws nothing) is the CPU one, so CPU results are those of earlier versions.</summary>
    public static Generator GeneratorFor(ulong seed, Device device) =>
        device.type == TorchSharp.DeviceType.CUDA ? new Generator(seed, device) : new Generator(seed);

    public static bool IsCpu(Tensor t) => t.device_type == TorchSharp.DeviceType.CPU;

    /// <summary>A CUDA tensor's copy on the CPU (where images are written); CPU and meta tensors as they are.</summary>
    public static Tensor ToHost(Tensor t) => t.device_type == TorchSharp.DeviceType.CUDA ? t.cpu() : t;
}

/// <summary>Makes a device libtorch's default device until disposed (then the previous one again).</summary>
internal sealed class DeviceScope : IDisposable
{
    private readonly Device _previous;

    public DeviceScope(Device device)
    {
        _previous = get_default_device();
        set_default_device(device);
    }

    public void Dispose() => set_default_device(_previous);
}
