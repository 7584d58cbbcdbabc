using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>Per-step tables (√ᾱ_t, loss weights, fades, kernels) read at a batch of steps.</summary>
internal static class StepTables
{
    /// <summary>
    /// table[t] along the first dimension for an Int64 batch of steps t, on t's device: a table made elsewhere (a process
    /// built outside the model's device scope) is moved there first. Advanced indexing rather than index_select, which has
    /// no kernel on libtorch's meta device (the device the device tests run on).
    /// </summary>
    public static Tensor At(Tensor table, Tensor t)
    {
        var onDevice = table.device_type == t.device_type && table.device_index == t.device_index ? table : table.to(t.device);
        return onDevice.index(TensorIndex.Tensor(t));
    }
}
