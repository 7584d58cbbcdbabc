using Ddpm.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Alone: resident memory is the whole process's, so other tests allocating beside it would blur the numbers.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResidentMemoryCollection { public const string Name = "resident memory"; }

[Collection(ResidentMemoryCollection.Name)]
public class RuntimeMemoryTests
{
    static RuntimeMemoryTests() => TestSupport.Init();

    [Fact]
    public void Freed_tensor_memory_stays_resident_until_it_is_handed_back()
    {
        if (!TorchRuntime.AllocatorTuned) return; // not glibc: its allocator trims by itself, there is nothing kept to hand back
        // 24 tensors of 8 MiB, under the 32 MiB mmap threshold that TorchRuntime sets, so they live in glibc's heap; ones() touches every page.
        var tensors = Enumerable.Range(0, 24).Select(_ => ones(2 * 1024 * 1024)).ToList();
        double held = ProcessMemory.Resident().Current;
        foreach (var t in tensors) t.Dispose();
        double afterFree = ProcessMemory.Resident().Current;
        TorchRuntime.ReturnFreeMemory();
        double afterReturn = ProcessMemory.Resident().Current;
        // With the raised trim threshold, free() keeps the 192 MiB for the next step; ReturnFreeMemory gives them back.
        Assert.True(afterFree > held - 32, $"free() already returned the pages: {held:F0} -> {afterFree:F0} MiB");
        Assert.True(afterFree - afterReturn > 150, $"resident {held:F0} MiB with the tensors, {afterFree:F0} after freeing, {afterReturn:F0} after handing back");
    }
}
