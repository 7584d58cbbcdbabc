using Ddpm.Model;

namespace Ddpm.Benchmarks;

/// <summary>
/// Forward-pass FLOPs of a <see cref="UNet"/> per image, counted from its layer shapes (a multiply-add is 2 FLOPs;
/// convolutions, linear layers and attention matrix products; normalisation and activations are ignored).
/// Training costs about 3× the forward pass (the backward pass computes two products per forward one).
/// </summary>
internal static class FlopCounter
{
    public static double UNetForward(UNetConfig c)
    {
        int r = c.ImageSize, baseCh = c.BaseChannels, timeDim = 4 * baseCh, levels = c.ChannelMultipliers.Length;
        var width = c.ChannelMultipliers.Select(m => m * baseCh).ToArray();
        double flops = Linear(baseCh, timeDim) + Linear(timeDim, timeDim) + Conv(r, c.ImageChannels, baseCh, 3);
        int ch = baseCh;
        var skips = new Stack<int>();
        for (int level = 0; level < levels; level++)
        {
            for (int b = 0; b < c.BlocksPerLevel; b++)
            {
                flops += ResBlock(r, ch, width[level], timeDim);
                ch = width[level];
                skips.Push(ch);
            }
            if (level < levels - 1)
            {
                flops += Conv(r / 2, ch, ch, 3); // stride 2: output resolution
                r /= 2;
            }
        }
        flops += 2 * ResBlock(r, ch, ch, timeDim);
        if (c.Attention) flops += Attention(r * r, ch);
        for (int level = levels - 1; level >= 0; level--)
        {
            for (int b = 0; b < c.BlocksPerLevel; b++)
            {
                flops += ResBlock(r, ch + skips.Pop(), width[level], timeDim);
                ch = width[level];
            }
            if (level > 0)
            {
                r *= 2;
                flops += Conv(r, ch, ch, 3);
            }
        }
        return flops + Conv(r, ch, c.ImageChannels, 3);
    }

    private static double Conv(int resolution, int cin, int cout, int k) => 2.0 * resolution * resolution * cin * cout * k * k;

    private static double Linear(int cin, int cout) => 2.0 * cin * cout;

    private static double ResBlock(int r, int cin, int cout, int timeDim) =>
        Conv(r, cin, cout, 3) + Conv(r, cout, cout, 3) + Linear(timeDim, cout) + (cin != cout ? Conv(r, cin, cout, 1) : 0);

    private static double Attention(int tokens, int ch) =>
        Conv(1, ch, 3 * ch, 1) * tokens + 2.0 * 2 * tokens * tokens * ch + Conv(1, ch, ch, 1) * tokens;
}
