#!/usr/bin/env bash
# FCD against model calls (NFE) for the Gaussian samplers on one checkpoint (BENCHMARKS.md), one evaluation after another.
#
#   docs/nfe-table.sh CHECKPOINT [--n N] [--out DIR] [ROW ...]
#
# ROW is NAME=SAMPLER-FLAGS, e.g. 'dpm++2m-20=--sampler dpm++2m --steps 20 --clip-x0'; default: the rows below.
# Writes DIR/NAME.json and DIR/table.md; a row whose JSON exists is skipped. Needs a Release build and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 2,8p "$0"; exit 2; }
checkpoint=$1; shift
n=1000 out=runs/nfe
rows=()
while [ $# -gt 0 ]; do
  case $1 in
    --n) n=$2; shift 2;;
    --out) out=$2; shift 2;;
    *) rows+=("$1"); shift;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(
  'dpm++2m-10=--sampler dpm++2m --steps 10 --clip-x0'
  'dpm++2m-20=--sampler dpm++2m --steps 20 --clip-x0'
  'dpm++2m-20-unclipped=--sampler dpm++2m --steps 20'
  'dpm++2m-50=--sampler dpm++2m --steps 50 --clip-x0'
  'ddim-20=--sampler ddim --steps 20 --clip-x0'
  'ddim-50=--sampler ddim --steps 50 --clip-x0'
  'ddpm-50=--sampler ddpm --steps 50 --clip-x0'
  'ddpm-100=--sampler ddpm --steps 100 --clip-x0')
command -v jq >/dev/null || { echo "nfe-table: jq is required (apt-get install jq)" >&2; exit 1; }
DDPM=${DDPM:-"dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll"}
mkdir -p "$out"
for row in "${rows[@]}"; do
  name=${row%%=*} flags=${row#*=}
  [ -s "$out/$name.json" ] && continue
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  $DDPM eval --checkpoint "$checkpoint" --n "$n" $flags --json "$out/$name.json" > "$out/$name.log" 2>&1
  echo "$name $(echo "$(date +%s.%N) - $start" | bc)" >> "$out/seconds"
  grep -E "Ratio to the real-data floor" "$out/$name.log"
done
{
  echo "| sampler | flags | NFE | FCD (N = $n) | × floor | p > 0.9 | precision | recall | class entropy | s for $n images | s for 64 images (scaled) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    name=${row%%=*} flags=${row#*=}
    f="$out/$name.json"; [ -s "$f" ] || continue
    secs=$(awk -v k="$name" '$1 == k {s = $2} END {print s}' "$out/seconds")
    nfe=$(grep -oE "\(([0-9]+) model calls\)|, ([0-9]+) steps" "$out/$name.log" | head -1 | grep -oE "[0-9]+" | head -1)
    jq -r --arg name "$name" --arg flags "$flags" --arg nfe "$nfe" --arg secs "$secs" --argjson n "$n" '
      [$name, "`" + $flags + "`", $nfe,
       (.samples.fcd * 10 | round / 10 | tostring), ((.samples.fcd / .reference.fcd) * 10 | round / 10 | tostring) + "×",
       (.samples.confidentFraction * 100 | round | tostring) + "%",
       (.samples.precision * 100 | round | tostring) + "%", (.samples.recall * 100 | round | tostring) + "%",
       (.samples.classEntropy * 1000 | round / 1000 | tostring),
       ($secs | tonumber | round | tostring), ($secs | tonumber * 64 / $n * 10 | round / 10 | tostring)]
      | "| " + join(" | ") + " |"' "$f"
  done
} > "$out/table.md"
cat "$out/table.md"
