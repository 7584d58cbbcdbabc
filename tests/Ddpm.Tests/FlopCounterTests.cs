using Ddpm.Benchmarks;
using Ddpm.Model;

namespace Ddpm.Tests;

public class FlopCounterTests
{
    [Fact]
    public void Counts_a_one_level_unet_by_hand()
    {
        // One level at 4×4, base 4, no attention: time MLP 2·4·16 + 2·16·16; input conv 2·16·1·4·9;
        // down block, two mid blocks and the up block (8 → 4 channels, with a 1×1 skip); output conv.
        var c = new UNetConfig { ImageSize = 4, BaseChannels = 4, ChannelMultipliers = [1], BlocksPerLevel = 1, Attention = false };
        double conv(int cin, int cout, int k) => 2.0 * 16 * cin * cout * k * k;
        double block(int cin, int cout) => conv(cin, cout, 3) + conv(cout, cout, 3) + 2.0 * 16 * cout + (cin != cout ? conv(cin, cout, 1) : 0);
        double expected = 2 * 4 * 16 + 2 * 16 * 16 + conv(1, 4, 3) + block(4, 4) + 2 * block(4, 4) + block(8, 4) + conv(4, 1, 3);
        Assert.Equal(expected, FlopCounter.UNetForward(c), 6);
    }

    [Fact]
    public void Bigger_presets_cost_more()
    {
        double tiny = FlopCounter.UNetForward(UNetConfig.FromPreset("tiny"));
        double small = FlopCounter.UNetForward(UNetConfig.FromPreset("small"));
        double medium = FlopCounter.UNetForward(UNetConfig.FromPreset("medium"));
        Assert.True(tiny < small && small < medium);
        Assert.InRange(small, 0.05e9, 0.5e9);
    }
}
