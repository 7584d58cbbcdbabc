#!/usr/bin/env python3
"""A PyTorch peer of ddpm's default model and training step, for speed comparisons (BENCHMARKS.md, "Against PyTorch").

The network mirrors src/Ddpm/Model (UNet, ResBlock, SelfAttention, TimeEmbedding) module by module and name by name, so
the state dict that `ddpm export` writes loads into it strictly; the training step is ddpm's default recipe (v-prediction,
min-SNR-5 weights, label dropout 0.1, AdamW, gradient clipping at 1, EMA) written as a PyTorch user would write it, with
bf16 autocast on the CPU. Not part of the product, CI or the tests; it needs Debian's python3-torch (PyTorch 1.13).

  python3 bench/peer/peer.py bench [--batch-size 64] [--iterations 10] [--precision bf16|fp32] [--channels-last] [--json F]
  python3 bench/peer/peer.py check model.safetensors probe.npz     # the outputs `ddpm export --probe` wrote, recomputed here
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def groups_for(channels):
    """UNetConfig.GroupsFor: up to 8 groups, at least 4 channels per group."""
    for g in range(min(8, channels // 4), 1, -1):
        if channels % g == 0:
            return g
    return 1


class GroupNorm32(nn.GroupNorm):
    """GroupNorm in fp32 under autocast (PyTorch 1.13's CPU autocast leaves group_norm out and fails on a bf16 input with fp32
    weights): ddpm's split too, bf16 convolutions with fp32 normalisation and residual sums (OpenAI's guided-diffusion does the same)."""

    def forward(self, x):
        return super().forward(x.float())


class ConvNhwc(nn.Module):
    """ddpm's convolution wrapper holds the Conv2d as `conv` (state-dict names `...conv.weight`)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding)

    def forward(self, x):
        return self.conv(x)


class TimeEmbedding(nn.Module):
    def __init__(self, dim, out_dim):
        super().__init__()
        self.dim = dim
        self.fc1 = nn.Linear(dim, out_dim)
        self.fc2 = nn.Linear(out_dim, out_dim)

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half))
        args = t.float()[:, None] * freqs[None, :]
        return self.fc2(F.silu(self.fc1(torch.cat([torch.sin(args), torch.cos(args)], 1))))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, time_dim):
        super().__init__()
        self.norm1 = GroupNorm32(groups_for(cin), cin)
        self.conv1 = ConvNhwc(cin, cout, 3, padding=1)
        self.time = nn.Linear(time_dim, cout)
        self.norm2 = GroupNorm32(groups_for(cout), cout)
        self.conv2 = ConvNhwc(cout, cout, 3, padding=1)
        self.skip = nn.Identity() if cin == cout else ConvNhwc(cin, cout, 1)

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SelfAttention(nn.Module):
    def __init__(self, channels, head_width=32):
        super().__init__()
        self.heads = max(1, channels // head_width)
        self.norm = GroupNorm32(groups_for(channels), channels)
        self.qkv = ConvNhwc(channels, 3 * channels, 1)
        self.proj = ConvNhwc(channels, channels, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).permute(1, 0, 2, 4, 3).unbind(0)
        # PyTorch 1.13 has no scaled_dot_product_attention: the same softmax(q kᵀ / √d) v by hand.
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        merged = (attn @ v).permute(0, 1, 3, 2).reshape(b, c, h, w)
        return x + self.proj(merged)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = ConvNhwc(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    """ddpm's `small` preset with the default recipe's architecture ("zero": no full skips, attention in the bottleneck only)."""

    def __init__(self, image_channels=1, base=32, mults=(1, 2, 2), blocks=1, num_classes=10, zero_init=True):
        super().__init__()
        time_dim = 4 * base
        width = [m * base for m in mults]
        self.levels, self.blocks, self.null_class = len(mults), blocks, num_classes
        self.timeEmbedding = TimeEmbedding(base, time_dim)
        self.classEmbedding = nn.Embedding(num_classes + 1, time_dim) if num_classes > 0 else None
        self.inputConv = ConvNhwc(image_channels, base, 3, padding=1)
        self.downBlocks, self.downAttention, self.downsamplers = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        ch, skips = base, []
        for level in range(self.levels):
            for _ in range(blocks):
                self.downBlocks.append(ResBlock(ch, width[level], time_dim))
                ch = width[level]
                self.downAttention.append(nn.Identity())
                skips.append(ch)
            if level < self.levels - 1:
                self.downsamplers.append(ConvNhwc(ch, ch, 3, stride=2, padding=1))
        self.mid1 = ResBlock(ch, ch, time_dim)
        self.midAttention = SelfAttention(ch)
        self.mid2 = ResBlock(ch, ch, time_dim)
        self.upBlocks, self.upAttention, self.upsamplers = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for level in reversed(range(self.levels)):
            for _ in range(blocks):
                self.upBlocks.append(ResBlock(ch + skips.pop(), width[level], time_dim))
                ch = width[level]
                self.upAttention.append(nn.Identity())
            if level > 0:
                self.upsamplers.append(Upsample(ch))
        self.outputNorm = GroupNorm32(groups_for(ch), ch)
        self.outputConv = ConvNhwc(ch, image_channels, 3, padding=1)
        if zero_init:  # Ho et al.'s init_scale=0, as UNet.ZeroInitializeOutputs
            for m in self.modules():
                if isinstance(m, ResBlock):
                    nn.init.zeros_(m.conv2.conv.weight); nn.init.zeros_(m.conv2.conv.bias)
                elif isinstance(m, SelfAttention):
                    nn.init.zeros_(m.proj.conv.weight); nn.init.zeros_(m.proj.conv.bias)
            nn.init.zeros_(self.outputConv.conv.weight); nn.init.zeros_(self.outputConv.conv.bias)

    def forward(self, x, t, labels=None):
        emb = self.timeEmbedding(t)
        if self.classEmbedding is not None:
            emb = emb + self.classEmbedding(labels if labels is not None else torch.full((x.shape[0],), self.null_class, dtype=torch.long))
        h = self.inputConv(x)
        skips, block = [], 0
        for level in range(self.levels):
            for _ in range(self.blocks):
                h = self.downAttention[block](self.downBlocks[block](h, emb))
                block += 1
                skips.append(h)
            if level < self.levels - 1:
                h = self.downsamplers[level](h)
        h = self.mid2(self.midAttention(self.mid1(h, emb)), emb)
        block = 0
        for level in reversed(range(self.levels)):
            for _ in range(self.blocks):
                h = self.upAttention[block](self.upBlocks[block](torch.cat([h, skips.pop()], 1), emb))
                block += 1
            if level > 0:
                h = self.upsamplers[self.levels - 1 - level](h)
        return self.outputConv(F.silu(self.outputNorm(h)))


def read_safetensors(path):
    """The format (an 8-byte little-endian header length, a JSON header, the raw bytes); float32 tensors only, as ddpm writes."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype="<f4").copy()).reshape(info["shape"])
    return out, header.get("__metadata__", {})


def check(weights, probe):
    state, meta = read_safetensors(weights)
    config = json.loads(meta["ddpm.config"])["model"] if "ddpm.config" in meta else {}
    model = UNet(image_channels=config.get("imageChannels", 1), base=config.get("baseChannels", 32),
                 mults=tuple(config.get("channelMultipliers", (1, 2, 2))), blocks=config.get("blocksPerLevel", 1),
                 num_classes=config.get("numClasses", 10), zero_init=False)
    model.load_state_dict(state, strict=True)
    count = sum(p.numel() for p in model.parameters())
    arrays = np.load(probe)
    x, t = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["t"])
    labels = torch.from_numpy(arrays["labels"]) if "labels" in arrays.files else None
    expected = torch.from_numpy(arrays["output"])
    with torch.no_grad():
        got = model(x, t, labels)
    err = ((got - expected).norm() / expected.norm().clamp_min(1e-12)).item()
    print(f"parameters: {count:,}; probe of {x.shape[0]} images: relative error {err:.2e} (max |diff| {(got - expected).abs().max().item():.2e})")
    return 0 if err < 1e-4 else 1


def mnist_batch(folder, n):
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    count, rows, cols = struct.unpack(">III", raw[4:16])
    images = np.frombuffer(raw, dtype=np.uint8, offset=16)[: n * rows * cols].reshape(n, 1, rows, cols)
    with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:n]
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1), torch.from_numpy(labels.astype(np.int64))


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    T, gamma, label_drop = 1000, 5.0, 0.1
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    alpha_bar = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])
    sqrt_ab, sqrt_1mab = alpha_bar.sqrt().float(), (1 - alpha_bar).sqrt().float()
    snr = alpha_bar / (1 - alpha_bar).clamp_min(1e-20)
    weight = (snr.clamp(max=gamma) / (snr + 1)).float()

    model = UNet()
    ema = UNet()
    ema.load_state_dict(model.state_dict())
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model.to(memory_format=fmt); ema.to(memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0)
    if args.data:
        x0, labels = mnist_batch(args.data, args.batch_size)
    else:
        x0, labels = torch.rand(args.batch_size, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (args.batch_size,))
    x0 = x0.contiguous(memory_format=fmt)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
    step_count = [0]

    def train_step():
        t = torch.randint(1, T + 1, (x0.shape[0],))
        noise = torch.randn_like(x0)
        a, s = sqrt_ab[t].view(-1, 1, 1, 1), sqrt_1mab[t].view(-1, 1, 1, 1)
        xt, target = a * x0 + s * noise, a * noise - s * x0  # v = α ε − σ x₀ (Salimans & Ho 2022)
        c = torch.where(torch.rand(x0.shape[0]) < label_drop, torch.full_like(labels, 10), labels)
        with autocast:
            out = model(xt, t, c)
        loss = (((out.float() - target) ** 2).flatten(1).mean(1) * weight[t]).mean()
        loss.item()  # ddpm reads the loss every step to stop on NaN
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        n = step_count[0]
        d = min(0.999, (1 + n) / (10 + n))
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(p, alpha=1 - d)
        step_count[0] += 1

    def denoise_step():
        with torch.inference_mode(), autocast:
            ema(torch.randn(args.sample_batch, 1, 28, 28).contiguous(memory_format=fmt), torch.full((args.sample_batch,), T // 2, dtype=torch.long))

    def timed(fn, warmup, iters):
        for _ in range(warmup):
            fn()
        out = []
        for _ in range(iters):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
        return out

    train = sorted(args.batch_size / s for s in timed(train_step, 3, args.iterations))
    ema.eval()
    sample = sorted(args.sample_batch / s for s in timed(denoise_step, 3, args.iterations))
    report = {
        "peer": f"PyTorch {torch.__version__}", "precision": args.precision, "channelsLast": args.channels_last,
        "parameters": sum(p.numel() for p in model.parameters()), "threads": torch.get_num_threads(),
        "trainBatch": args.batch_size, "sampleBatch": args.sample_batch,
        "trainImagesPerSecond": {"min": train[0], "median": train[len(train) // 2], "max": train[-1]},
        "sampleImageStepsPerSecond": {"min": sample[0], "median": sample[len(sample) // 2], "max": sample[-1]},
    }
    print(f"peer ({report['peer']}, {args.precision}{', channels-last' if args.channels_last else ''}, {report['parameters']:,} parameters): "
          f"train {report['trainImagesPerSecond']['median']:.1f} images/s, denoising step {report['sampleImageStepsPerSecond']['median']:.1f} images/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="training and denoising-step throughput")
    b.add_argument("--batch-size", type=int, default=64)
    b.add_argument("--sample-batch", type=int, default=64)
    b.add_argument("--iterations", type=int, default=10)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    b.add_argument("--channels-last", action="store_true")
    b.add_argument("--data", help="an MNIST IDX folder (gz) to train on its first batch instead of uniform noise")
    b.add_argument("--json")
    c = sub.add_parser("check", help="recompute the probe that `ddpm export --probe` wrote, from the exported weights")
    c.add_argument("weights")
    c.add_argument("probe")
    args = p.parse_args()
    return bench(args) if args.command == "bench" else check(args.weights, args.probe)


if __name__ == "__main__":
    sys.exit(main())
