#!/usr/bin/env bash
# ddpm against its PyTorch peer (bench/peer/peer.py), one job at a time, alternating, several rounds: this machine's speed
# drifts up to 2x within an hour, so only ratios within one round count. Prints every run and each round's ratios to the
# faster of the two peers (PyTorch's default layout and channels-last, both with bf16 autocast), and writes DIR/table.md.
#
#   bench/peer/compare.sh [--rounds R] [--iterations N] [--data DIR] [--out DIR] [NAME=BENCH-COMMAND ...]
#
# NAME=BENCH-COMMAND names a ddpm bench to run, e.g. 'base=dotnet /tmp/ddpm-base/ddpm.dll bench --recipe seed'; default: this
# checkout's Release build, 'ddpm=dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll bench'. The peer is the default recipe's
# model. Needs Debian's python3-torch (apt-get install python3-torch) and jq; not part of CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3 iterations=10 data=data/mnist out=runs/peer
variants=()
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2;;
    --iterations) iterations=$2; shift 2;;
    --data) data=$2; shift 2;;
    --out) out=$2; shift 2;;
    -h|--help) sed -n 2,11p "$0"; exit 0;;
    *) variants+=("$1"); shift;;
  esac
done
[ ${#variants[@]} -gt 0 ] || variants=("ddpm=dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll bench")
command -v jq >/dev/null || { echo "compare: jq is required (apt-get install jq)" >&2; exit 1; }
python=/usr/bin/python3
$python -c "import torch" 2>/dev/null || { echo "compare: PyTorch is required (apt-get install python3-torch)" >&2; exit 1; }
mkdir -p "$out"
row() { printf '| %s | %s | %s | %.1f | %.1f |\n' "$1" "$2" "$3" "$4" "$5"; }
{
  echo "| round | run | started (UTC) | train images/s (median) | denoising-step images/s (median) |"
  echo "|---|---|---|---|---|"
} > "$out/runs.md"
for r in $(seq 1 "$rounds"); do
  for v in "${variants[@]}"; do
    name=${v%%=*} cmd=${v#*=} started=$(date -u +%H:%M:%S)
    # shellcheck disable=SC2086
    $cmd --skip-ancestral --iterations "$iterations" --data "$data" --json "$out/$r-$name.json" > "$out/$r-$name.log" 2>&1
    row "$r" "$name" "$started" "$(jq .trainImagesPerSecond.median "$out/$r-$name.json")" "$(jq .sampleImageStepsPerSecond.median "$out/$r-$name.json")" | tee -a "$out/runs.md"
  done
  for peer in peer peer-cl; do
    started=$(date -u +%H:%M:%S)
    flags=(); [ "$peer" = peer-cl ] && flags=(--channels-last)
    $python bench/peer/peer.py bench --iterations "$iterations" --data "$data" "${flags[@]}" --json "$out/$r-$peer.json" > "$out/$r-$peer.log" 2>&1
    row "$r" "$peer" "$started" "$(jq .trainImagesPerSecond.median "$out/$r-$peer.json")" "$(jq .sampleImageStepsPerSecond.median "$out/$r-$peer.json")" | tee -a "$out/runs.md"
  done
done
{
  echo "| round | run | train ÷ best peer | denoising step ÷ best peer |"
  echo "|---|---|---|---|"
  for r in $(seq 1 "$rounds"); do
    pt=$(jq -s 'map(.trainImagesPerSecond.median) | max' "$out/$r-peer.json" "$out/$r-peer-cl.json")
    ps=$(jq -s 'map(.sampleImageStepsPerSecond.median) | max' "$out/$r-peer.json" "$out/$r-peer-cl.json")
    for v in "${variants[@]}"; do
      name=${v%%=*}
      jq -r --arg r "$r" --arg name "$name" --argjson pt "$pt" --argjson ps "$ps" \
        '"| \($r) | \($name) | \(.trainImagesPerSecond.median / $pt * 100 | round / 100) | \(.sampleImageStepsPerSecond.median / $ps * 100 | round / 100) |"' "$out/$r-$name.json"
    done
  done
} > "$out/table.md"
cat "$out/table.md"
