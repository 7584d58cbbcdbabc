using TorchSharp;
using static TorchSharp.torch;

namespace Ddpm.Diffusion;

/// <summary>
/// Immiscible diffusion (Li et al. 2024, "Accelerating Diffusion Training with Noise Assignment"): before noising, the batch's
/// noise samples are assigned to its images so that the total image-to-noise distance is minimal, so each image is diffused
/// towards nearby noise instead of anywhere in noise space. As in the authors' code (yhli123/Immiscible-Diffusion,
/// <c>Linear_Assignment-stable_diffusion/conditional_scratch_train_sd.py</c>): the cost is the Euclidean distance ‖x_0,i − ε_j‖ and
/// the assignment is a linear-sum assignment (they call SciPy's <c>linear_sum_assignment</c>; here the Hungarian method).
/// </summary>
internal static class NoiseAssignment
{
    /// <summary>The noise reordered so that row i goes with image i, minimising Σ_i ‖x_0,i − ε_σ(i)‖.</summary>
    public static Tensor Assign(Tensor x0, Tensor noise)
    {
        using var scope = NewDisposeScope();
        long n = x0.shape[0];
        var distance = cdist(x0.flatten(1).to(ScalarType.Float64), noise.flatten(1).to(ScalarType.Float64)); // [B, B]
        var flat = distance.data<double>().ToArray();
        var cost = new double[n, n];
        for (long i = 0; i < n; i++)
            for (long j = 0; j < n; j++)
                cost[i, j] = flat[i * n + j];
        var columns = MinimumCostAssignment(cost);
        var order = tensor(columns.Select(c => (long)c).ToArray(), ScalarType.Int64);
        return noise.index_select(0, order).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The Hungarian method (Kuhn 1955, Munkres 1957) in its O(n³) shortest-augmenting-path form with row and column potentials:
    /// for a square cost matrix, the column of each row in an assignment of minimal total cost.
    /// </summary>
    public static int[] MinimumCostAssignment(double[,] cost)
    {
        int n = cost.GetLength(0);
        if (cost.GetLength(1) != n) throw new ArgumentException("the cost matrix must be square", nameof(cost));
        // 1-based: rowOf[j] = the row assigned to column j (0 = none); u, v the potentials with u_i + v_j ≤ c_ij.
        var u = new double[n + 1];
        var v = new double[n + 1];
        var rowOf = new int[n + 1];
        var way = new int[n + 1];
        for (int i = 1; i <= n; i++)
        {
            // Add row i: grow a tree of tight edges from the free column 0 until it reaches a free column, then flip the path.
            rowOf[0] = i;
            int column = 0;
            var minSlack = new double[n + 1];
            var used = new bool[n + 1];
            Array.Fill(minSlack, double.PositiveInfinity);
            do
            {
                used[column] = true;
                int row = rowOf[column], next = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    double slack = cost[row - 1, j - 1] - u[row] - v[j];
                    if (slack < minSlack[j]) { minSlack[j] = slack; way[j] = column; }
                    if (minSlack[j] < delta) { delta = minSlack[j]; next = j; }
                }
                for (int j = 0; j <= n; j++)
                {
                    if (used[j]) { u[rowOf[j]] += delta; v[j] -= delta; }
                    else minSlack[j] -= delta;
                }
                column = next;
            } while (rowOf[column] != 0);
            do
            {
                int previous = way[column];
                rowOf[column] = rowOf[previous];
                column = previous;
            } while (column != 0);
        }
        var result = new int[n];
        for (int j = 1; j <= n; j++) result[rowOf[j] - 1] = j - 1;
        return result;
    }
}
