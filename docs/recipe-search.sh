#!/usr/bin/env bash
# The time-to-quality search (BENCHMARKS.md): trains each variant for the same time budget, one after another (jobs in
# parallel slow each other down several-fold), scores it with `ddpm eval` at the same N and sampler, saves a
# 64-image grid, and writes table.md from the rows done so far.
#
#   docs/recipe-search.sh [--minutes M] [--n N] [--out DIR] [--sampler "FLAGS"] ROW ...
#
# ROW is NAME=TRAIN-FLAGS, e.g. 'seed=--recipe seed' or 'fast-eps=--prediction eps'. A row whose eval.json exists is
# skipped and a trained row is only evaluated, so the script can be re-run to resume.
# Needs a Release build (dotnet build -c Release) and jq. Set DDPM to run another build.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10 n=1000 out=runs/search sampler="--sampler dpm++2m --steps 20 --clip-x0"
rows=()
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2;;
    --n) n=$2; shift 2;;
    --out) out=$2; shift 2;;
    --sampler) sampler=$2; shift 2;;
    -h|--help) sed -n 2,10p "$0"; exit 0;;
    *) rows+=("$1"); shift;;
  esac
done
[ ${#rows[@]} -gt 0 ] || { echo "recipe-search: give at least one NAME=TRAIN-FLAGS row" >&2; exit 2; }
command -v jq >/dev/null || { echo "recipe-search: jq is required (apt-get install jq)" >&2; exit 1; }
DDPM=${DDPM:-"dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll"}
mkdir -p "$out"

for row in "${rows[@]}"; do
  name=${row%%=*} flags=${row#*=}
  dir="$out/$name"
  if [ -s "$dir/eval.json" ]; then echo "== $name: done already ($dir/eval.json)"; continue; fi
  echo "== $name ($flags): training for $minutes minutes ($(date -u +%H:%M) UTC)"
  # shellcheck disable=SC2086
  [ -s "$dir/checkpoint/progress.json" ] || \
    $DDPM train $flags --max-minutes "$minutes" --epochs 1000 --preview-every 0 --seed 0 --out "$dir" > "$dir.train.log" 2>&1
  tail -n 2 "$dir.train.log"
  # shellcheck disable=SC2086
  $DDPM eval --checkpoint "$dir" --n "$n" $sampler --json "$dir/eval.json" > "$dir.eval.log" 2>&1
  grep -E "^\| *samples" "$dir.eval.log" || tail -n 3 "$dir.eval.log"
  # shellcheck disable=SC2086
  $DDPM sample --checkpoint "$dir" --n 64 $sampler --seed 1 --out "$out/grid-$name.png" > /dev/null
done

{
  echo "| row | train flags | FCD (N = $n) | × floor | p > 0.9 | precision | recall | class entropy | steps | images seen | training time | images/s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "$out"/*/eval.json; do
    dir=$(dirname "$f") name=$(basename "$(dirname "$f")")
    flags=$(grep -m1 "^== $name " "$out/log" 2>/dev/null | sed -E 's/^== [^(]*\((.*)\): training.*/\1/' || true)
    jq -r --slurpfile cfg "$dir/checkpoint/config.json" --slurpfile prog "$dir/checkpoint/progress.json" --arg row "$name" --arg flags "$flags" '
      [$row, "`" + $flags + "`",
       (.samples.fcd * 10 | round / 10 | tostring), ((.samples.fcd / .reference.fcd) * 10 | round / 10 | tostring) + "×",
       (.samples.confidentFraction * 100 | round | tostring) + "%",
       (.samples.precision * 100 | round | tostring) + "%", (.samples.recall * 100 | round | tostring) + "%",
       (.samples.classEntropy * 1000 | round / 1000 | tostring),
       ($prog[0].globalStep | tostring), ($prog[0].globalStep * $cfg[0].training.batchSize | tostring),
       (($prog[0].elapsedSeconds / 60 * 10 | round / 10 | tostring) + " min"),
       ($prog[0].globalStep * $cfg[0].training.batchSize / $prog[0].elapsedSeconds | round | tostring)]
      | "| " + join(" | ") + " |"' "$f"
  done
} > "$out/table.md"
cat "$out/table.md"
