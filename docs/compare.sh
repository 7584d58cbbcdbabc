#!/usr/bin/env bash
# The schedule/noise comparison (EXPERIMENTS.md): trains each row with the same preset, seed and time budget,
# scores it with `ddpm eval` at the same N and 50 model calls per image (Gaussian rows: DDIM with x̂_0 clipped,
# which the schedules with ᾱ_T near 0 need; gamma: its sampler respaced; blur/mask: the cold sampler), saves a 64-image grid, and writes
# table.md from the rows done so far. Rows run one after another (they would slow each other down).
#
#   docs/compare.sh [--minutes M] [--n N] [--out DIR] [ROW ...]
#
# ROW is schedule:NAME (Gaussian noise) or noise:NAME (linear schedule); default: all five schedules and the
# three other noise types. A row whose eval.json exists is skipped, and a trained row is only evaluated, so the
# script can be re-run to resume.
# Needs a Release build (dotnet build -c Release) and jq. Set DDPM to run another build.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=20 n=1000 out=runs/compare
rows=()
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2;;
    --n) n=$2; shift 2;;
    --out) out=$2; shift 2;;
    -h|--help) sed -n 2,10p "$0"; exit 0;;
    *) rows+=("$1"); shift;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(schedule:linear schedule:simple-linear schedule:cosine schedule:sigmoid schedule:exponential noise:gamma noise:blur noise:mask)
command -v jq >/dev/null || { echo "compare: jq is required (apt-get install jq)" >&2; exit 1; }
DDPM=${DDPM:-"dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll"}
mkdir -p "$out"

for row in "${rows[@]}"; do
  kind=${row%%:*} name=${row#*:}
  case $kind in
    schedule) train=(--schedule "$name"); sampler=(--sampler ddim --steps 50 --clip-x0);;
    noise) train=(--noise "$name"); sampler=(--steps 50)
           [ "$name" = gaussian ] && sampler=(--sampler ddim --steps 50 --clip-x0);;
    *) echo "compare: bad row '$row' (schedule:NAME or noise:NAME)" >&2; exit 2;;
  esac
  dir="$out/${kind}-${name}"
  if [ -s "$dir/eval.json" ]; then echo "== $row: done already ($dir/eval.json)"; continue; fi
  echo "== $row: training for $minutes minutes ($(date -u +%H:%M) UTC)"
  [ -s "$dir/checkpoint/progress.json" ] || \
    $DDPM train "${train[@]}" --max-minutes "$minutes" --epochs 1000 --preview-every 0 --seed 0 --out "$dir" > "$dir.train.log" 2>&1
  tail -n 3 "$dir.train.log"
  $DDPM eval --checkpoint "$dir" --n "$n" "${sampler[@]}" --json "$dir/eval.json" > "$dir.eval.log" 2>&1
  grep -E "FCD depends" "$dir.eval.log" || true
  title=$name; [ "$kind" = schedule ] && title="gaussian, $name schedule"
  fcd=$(jq -r '.samples.fcd * 10 | round / 10' "$dir/eval.json")
  $DDPM sample --checkpoint "$dir" --n 64 "${sampler[@]}" --seed 1 --title "$title: fcd $fcd" --out "$out/grid-${kind}-${name}.png" > /dev/null
done

# The table: one line per finished row.
{
  echo "| row | noise | schedule | FCD (N = $n) | × floor | precision | recall | class entropy | confident | steps | training time | images/s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "$out"/*/eval.json; do
    dir=$(dirname "$f")
    jq -r --slurpfile cfg "$dir/checkpoint/config.json" --slurpfile prog "$dir/checkpoint/progress.json" --arg row "$(basename "$dir")" '
      [$row, $cfg[0].diffusion.noise, $cfg[0].diffusion.schedule,
       (.samples.fcd * 10 | round / 10 | tostring), ((.samples.fcd / .reference.fcd) * 10 | round / 10 | tostring) + "×",
       (.samples.precision * 100 | round | tostring) + "%", (.samples.recall * 100 | round | tostring) + "%",
       (.samples.classEntropy * 100 | round / 100 | tostring), (.samples.confidentFraction * 100 | round | tostring) + "%",
       ($prog[0].globalStep | tostring), (($prog[0].elapsedSeconds / 60) * 10 | round / 10 | tostring) + " min",
       ($prog[0].globalStep * $cfg[0].training.batchSize / $prog[0].elapsedSeconds | round | tostring)]
      | "| " + join(" | ") + " |"' "$f"
  done
  jq -r '"| real MNIST train (floor) | | | \(.reference.fcd * 10 | round / 10) | 1× | \(.reference.precision * 100 | round)% | \(.reference.recall * 100 | round)% | \(.reference.classEntropy * 100 | round / 100) | \(.reference.confidentFraction * 100 | round)% | | | |"' \
    "$(ls "$out"/*/eval.json | head -n 1)"
} > "$out/table.md"
cat "$out/table.md"
