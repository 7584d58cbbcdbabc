#!/usr/bin/env bash
# The schedule/noise comparison (EXPERIMENTS.md): trains each row with the default recipe, the same seed and the same
# budget of optimizer steps (--epochs E: E x 938 steps of 64 MNIST images; a step budget, so the machine's speed drift
# and other jobs change how long a row takes, not what it learns), scores it with `ddpm eval` at the same N with each of
# its candidate samplers (all at <= 100 model calls), keeps the best as eval.json, saves a titled 64-image grid with it,
# and writes table.md (the best sampler per row) and samplers.md (every candidate) from the rows done so far.
# Rows run one after another (they would slow each other down).
#
#   docs/compare.sh [--epochs E] [--n N] [--out DIR] [ROW ...]
#
# ROW is schedule:NAME (Gaussian noise) or noise:NAME (linear schedule); default: all five schedules and the three other
# noise types. Finished evaluations are skipped and a trained row is only evaluated, so the script can be re-run to resume.
# Needs a Release build (dotnet build -c Release) and jq. Set DDPM to run another build.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=1 n=1000 out=runs/compare
rows=()
while [ $# -gt 0 ]; do
  case $1 in
    --epochs) epochs=$2; shift 2;;
    --n) n=$2; shift 2;;
    --out) out=$2; shift 2;;
    -h|--help) sed -n 2,13p "$0"; exit 0;;
    *) rows+=("$1"); shift;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(schedule:linear schedule:simple-linear schedule:cosine schedule:sigmoid schedule:exponential noise:gamma noise:blur noise:mask)
command -v jq >/dev/null || { echo "compare: jq is required (apt-get install jq)" >&2; exit 1; }
DDPM=${DDPM:-"dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll"}
mkdir -p "$out"

# Candidate samplers per noise type, LABEL=FLAGS, each at most 100 model calls per image.
candidates() {
  case $1 in
    gaussian) printf '%s\n' "dpm++2m-20=--sampler dpm++2m --steps 20" "ddim-20=--sampler ddim --steps 20";;
    gamma) printf '%s\n' "gamma-ddim-20=--sampler ddim --steps 20" "gamma-ddim-50=--sampler ddim --steps 50" "gamma-ddim-20-clip=--sampler ddim --steps 20 --clip-x0";;
    blur) printf '%s\n' "cold-50=--steps 50";;
    # Defading starts from one level per image: a start perturbation, removed at the end, is the variety it lacks (EXPERIMENTS.md).
    mask) printf '%s\n' "cold-50=--steps 50" "cold-50-p0.05=--steps 50 --start-perturbation 0.05" "cold-50-p0.2=--steps 50 --start-perturbation 0.2";;
  esac
}

for row in "${rows[@]}"; do
  kind=${row%%:*} name=${row#*:}
  case $kind in
    schedule) train=(--schedule "$name"); noise=gaussian;;
    noise) train=(--noise "$name"); noise=$name;;
    *) echo "compare: bad row '$row' (schedule:NAME or noise:NAME)" >&2; exit 2;;
  esac
  dir="$out/${kind}-${name}"
  if [ ! -s "$dir/checkpoint/progress.json" ]; then
    echo "== $row: training for $epochs epoch(s) ($(date -u +%H:%M) UTC)"
    $DDPM train "${train[@]}" --epochs "$epochs" --preview-every 0 --seed 0 --out "$dir" > "$dir.train.log" 2>&1
    tail -n 3 "$dir.train.log"
  fi
  mapfile -t cands < <(candidates "$noise")
  for cand in "${cands[@]}"; do
    label=${cand%%=*} flags=${cand#*=}
    [ -s "$dir/eval-$label.json" ] && continue
    echo "== $row: eval with $label ($(date -u +%H:%M) UTC)"
    # shellcheck disable=SC2086
    $DDPM eval --checkpoint "$dir" --n "$n" $flags --json "$dir/eval-$label.json" > "$dir.eval-$label.log" 2>&1
    grep -E "^\| *samples" "$dir.eval-$label.log" || tail -n 3 "$dir.eval-$label.log"
  done
  best=$(for cand in "${cands[@]}"; do label=${cand%%=*}; echo "$(jq -r .samples.fcd "$dir/eval-$label.json") $label"; done | sort -g | head -n 1 | cut -d' ' -f2)
  cp "$dir/eval-$best.json" "$dir/eval.json"
  echo "$best" > "$dir/best-sampler"
  for cand in "${cands[@]}"; do [ "${cand%%=*}" = "$best" ] && flags=${cand#*=}; done
  title=$name; [ "$kind" = schedule ] && title="gaussian, $name"
  fcd=$(jq -r '.samples.fcd * 10 | round / 10' "$dir/eval.json")
  # shellcheck disable=SC2086
  $DDPM sample --checkpoint "$dir" --n 64 $flags --seed 1 --title "$title: fcd $fcd" --out "$out/grid-${kind}-${name}.png" > /dev/null
done

# The tables: one line per finished row (best sampler), and every candidate's FCD and recall.
row_json() { jq -r --slurpfile cfg "$1/checkpoint/config.json" --slurpfile prog "$1/checkpoint/progress.json" --arg row "$(basename "$1")" --arg sampler "$2" "$3" "$4"; }
{
  echo "| row | noise | schedule | best sampler | FCD ↓ (N = $n) | × floor | p > 0.9 | requested class | precision | recall | class entropy | steps | training time | images/s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "$out"/*/eval.json; do
    dir=$(dirname "$f")
    row_json "$dir" "$(cat "$dir/best-sampler")" '
      [$row, $cfg[0].diffusion.noise, $cfg[0].diffusion.schedule, $sampler,
       (.samples.fcd * 10 | round / 10 | tostring), ((.samples.fcd / .reference.fcd) * 10 | round / 10 | tostring) + "×",
       (.samples.confidentFraction * 100 | round | tostring) + " %",
       (if .samples.conditionalAccuracy then (.samples.conditionalAccuracy * 100 | round | tostring) + " %" else "" end),
       (.samples.precision * 100 | round | tostring) + " %", (.samples.recall * 100 | round | tostring) + " %",
       (.samples.classEntropy * 1000 | round / 1000 | tostring),
       ($prog[0].globalStep | tostring), (($prog[0].elapsedSeconds / 60) * 10 | round / 10 | tostring) + " min",
       ($prog[0].globalStep * $cfg[0].training.batchSize / $prog[0].elapsedSeconds | round | tostring)]
      | "| " + join(" | ") + " |"' "$f"
  done
  jq -r '"| real MNIST train (floor) | | | | \(.reference.fcd * 10 | round / 10) | 1× | \(.reference.confidentFraction * 100 | round) % | | \(.reference.precision * 100 | round) % | \(.reference.recall * 100 | round) % | \(.reference.classEntropy * 1000 | round / 1000) | | | |"' \
    "$(ls "$out"/*/eval.json | head -n 1)"
} > "$out/table.md"
{
  echo "| row | sampler | FCD ↓ (N = $n) | precision | recall | s / $n images |"
  echo "|---|---|---|---|---|---|"
  for f in "$out"/*/eval-*.json; do
    dir=$(dirname "$f") label=$(basename "$f" .json); label=${label#eval-}
    row_json "$dir" "$label" '[$row, $sampler, (.samples.fcd * 10 | round / 10 | tostring), (.samples.precision * 100 | round | tostring) + " %",
       (.samples.recall * 100 | round | tostring) + " %", (.sampleSeconds // 0 | round | tostring)] | "| " + join(" | ") + " |"' "$f"
  done
} > "$out/samplers.md"
cat "$out/table.md" "$out/samplers.md"
