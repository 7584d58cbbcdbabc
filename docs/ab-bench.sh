#!/bin/bash
# Interleaved A/B benches (the shared machine's speed drifts by up to 2x over minutes): 2 rounds of every variant.
B="dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll bench --skip-ancestral --iterations 8"
cd "$(dirname "$0")/.."; mkdir -p .exp/ab
for round in 1 2; do
  for v in fp32 bf16 bf16-threads1 bf16-batch64 bf16-batch256 bf16-glibc-malloc fp32-glibc-malloc; do
    args="--precision ${v%%-*}"; env=""
    case $v in
      *threads1) args="$args --threads 1";;
      *batch64) args="$args --batch-size 64";;
      *batch256) args="$args --batch-size 256";;
      *glibc-malloc) env="DDPM_MALLOC_TUNING=0";;
    esac
    echo "== $round $v"
    env $env $B $args --json .exp/ab/$v-$round.json > .exp/ab/$v-$round.log 2>&1
    grep -E "train images|denoising|ddim 50" .exp/ab/$v-$round.log
  done
done
