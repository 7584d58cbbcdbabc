#!/usr/bin/env bash
# The README's Fashion-MNIST and colour examples, measured: training runs first, one at a time (their step counts depend on
# the machine being quiet), then the evaluators and evaluations. Set DDPM to run another build.
set -euo pipefail
cd "$(dirname "$0")/../.."
DDPM=${DDPM:-"dotnet src/Ddpm.Cli/bin/Release/net10.0/ddpm.dll"}
fashion=/usr/share/datasets/fashion-mnist   # Debian's dataset-fashion-mnist
out=runs/datasets
mkdir -p "$out" docs/datasets
[ -s "$out/fashion/checkpoint/progress.json" ] || $DDPM train --data "$fashion" --max-minutes 10 --epochs 1000 --preview-every 0 --seed 0 --out "$out/fashion" > "$out/fashion.train.log" 2>&1
# The README's shapes row was made on a folder called data/shapes-v2 (the same files; its first version, with other
# defaults, was data/shapes).
[ -d data/shapes ] || $DDPM shapes --out data/shapes
[ -s "$out/shapes/checkpoint/progress.json" ] || $DDPM train --data data/shapes --max-minutes 5 --epochs 1000 --preview-every 0 --seed 0 --out "$out/shapes" > "$out/shapes.train.log" 2>&1
[ -s data/evaluator/fashion-mnist-cnn.bin ] || $DDPM eval train-classifier --data "$fashion" > "$out/fashion.classifier.log" 2>&1
[ -s data/evaluator/shapes-cnn.bin ] || $DDPM eval train-classifier --data data/shapes > "$out/shapes.classifier.log" 2>&1
$DDPM eval --checkpoint "$out/fashion" --n 1000 --json docs/datasets/fashion-eval.json > "$out/fashion.eval.log" 2>&1
$DDPM eval --checkpoint "$out/shapes" --n 300 --json docs/datasets/shapes-eval.json > "$out/shapes.eval.log" 2>&1
$DDPM sample --checkpoint "$out/fashion" --digits 0-9 --n 10 --seed 1 --out docs/datasets/fashion-grid.png > /dev/null
$DDPM sample --checkpoint "$out/shapes" --digits 0-2 --n 10 --seed 1 --scale 4 --out docs/datasets/shapes-grid.png > /dev/null
tail -n 3 "$out"/*.train.log "$out"/*.classifier.log
grep -E "^│" "$out/fashion.eval.log" "$out/shapes.eval.log" | head -20
