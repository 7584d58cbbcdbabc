using Ddpm.Diffusion;
using Ddpm.Diffusion.Predictions;
using Ddpm.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Tests;

/// <summary>Immiscible diffusion's noise assignment (Li et al. 2024): a minimum-cost assignment of noise to images.</summary>
public class NoiseAssignmentTests
{
    public NoiseAssignmentTests() => TestSupport.Init();

    [Fact]
    public void Hungarian_method_finds_the_optimum_of_a_hand_case()
    {
        // Rows → columns 0→1, 1→0, 2→2 cost 1 + 2 + 2 = 5; every other permutation costs more (by hand: 4+0+2 = 6, 4+5+2 = 11,
        // 1+5+3 = 9, 3+2+2 = 7, 3+0+3 = 6).
        double[,] cost = { { 4, 1, 3 }, { 2, 0, 5 }, { 3, 2, 2 } };
        Assert.Equal([1, 0, 2], NoiseAssignment.MinimumCostAssignment(cost));
    }

    [Fact]
    public void Hungarian_method_matches_brute_force_over_all_permutations()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = 1 + trial % 7;
            var cost = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    cost[i, j] = trial % 2 == 0 ? random.Next(0, 5) : random.NextDouble() * 10; // ties in the integer cases
            double best = Permutations(Enumerable.Range(0, n).ToArray()).Min(p => p.Select((c, i) => cost[i, c]).Sum());
            var found = NoiseAssignment.MinimumCostAssignment(cost);
            Assert.Equal(Enumerable.Range(0, n), found.Order());
            Assert.Equal(best, found.Select((c, i) => cost[i, c]).Sum(), 9);
        }
    }

    [Fact]
    public void Assigned_noise_is_a_permutation_of_the_batch_noise_that_lowers_the_total_distance()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        var x0 = rand(16, 1, 8, 8) * 2 - 1;
        var noise = randn(16, 1, 8, 8);
        var assigned = NoiseAssignment.Assign(x0, noise);
        double Total(Tensor e) => (x0 - e).flatten(1).square().sum(1).sqrt().sum().item<float>(); // Σ_i ‖x_0,i − ε_i‖
        Assert.True(Total(assigned) < Total(noise));
        // The same rows, reordered: each assigned row equals exactly one noise row.
        var rowSums = noise.flatten(1).sum(1).data<float>().ToArray();
        Assert.Equal(rowSums.Order(), assigned.flatten(1).sum(1).data<float>().ToArray().Order());

        // Training with it: the input is still x_t = √ᾱ x_0 + √(1 − ᾱ) ε for the assigned ε (ε-target = the noise used).
        using var process = new GaussianDiffusion(NoiseSchedule.Create("linear", 100), new EpsilonPrediction(), immiscible: true);
        using var g = new Generator(2);
        var t = full(16, 40, ScalarType.Int64);
        var (input, target) = process.TrainingPair(x0, t, g);
        Assert.True(input.allclose(process.QSample(x0, t, target), atol: 1e-6));
        Assert.Contains("--immiscible applies to gaussian noise",
            Assert.Throws<DdpmUsageException>(() => NoiseProcesses.Prepare(new Training.DiffusionConfig { Noise = "blur", Immiscible = true }, x0)).Message);
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in Permutations([.. items[..i], .. items[(i + 1)..]]))
                yield return [items[i], .. rest];
    }
}
