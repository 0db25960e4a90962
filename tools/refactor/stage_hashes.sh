#!/usr/bin/env bash
# Behaviour check for restructurings (issue 14): runs a fixed set of experiments with one gda
# binary and prints, per run, the sha256 of its stages.jsonl with the timing fields removed
# (every accuracy, loss, pseudo-label count and pass count of every stage stays in). Run it
# with the binary before and after a change; the two outputs must be identical.
#   tools/refactor/stage_hashes.sh BUILD_DIR OUT_DIR [reference|optimizers|sweep|all]
# reference: configs/rotmnist.toml, seeds 0-2, target-only evaluation, 2 threads.
# optimizers: a tiny run of each of the 20 optimizers (1 thread).
# sweep: the first 6 runs of configs/sweeps/optimizers.toml (adam, T = 0 and 2, seeds 0-2).
set -euo pipefail
build=$(cd "$1" && pwd); out=$2; what=${3:-all}
gda=$build/gda
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
# stages.jsonl without train_seconds/eval_seconds, one canonical JSON object per line.
strip() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); [d.pop(k) for k in ("train_seconds","eval_seconds")]
    print(json.dumps(d,sort_keys=True))' "$1"; }
hash_of() { strip "$1" | sha256sum | cut -c1-16; }

if [[ $what == reference || $what == all ]]; then
  for seed in 0 1 2; do
    "$gda" run "$root/configs/rotmnist.toml" --seed $seed --threads 2 --set evaluation.domains=target \
      --out "$out/reference-seed$seed" > "$out/reference-seed$seed.log"
    echo "reference seed $seed $(hash_of "$out/reference-seed$seed/stages.jsonl")"
  done
fi
if [[ $what == optimizers || $what == all ]]; then
  for name in sgd adam adamw sam asam gsam gam sagm esam fisher_sam fsam friendly_sam msam looksam ssam \
              sampa bsam ausam rwp tram; do
    "$gda" run "$root/configs/rotmnist.toml" --threads 1 --set optimizer.name=$name \
      --set data.source_size=300 --set data.intermediate_size=400 --set data.target_size=200 --set shift.T=2 \
      --set source.epochs=1 --set adaptation.epochs=2 --set adaptation.batch_size=64 \
      --out "$out/tiny-$name" > "$out/tiny-$name.log"
    echo "tiny $name $(hash_of "$out/tiny-$name/stages.jsonl")"
  done
fi
if [[ $what == sweep || $what == all ]]; then
  sweep=$out/first6.toml
  sed -e 's#^base = .*#base = "'"$root"'/configs/rotmnist.toml"#' \
      -e 's#^"optimizer.name" = .*#"optimizer.name" = ["adam"]#' -e 's#^"shift.T" = .*#"shift.T" = [0, 2]#' \
      "$root/configs/sweeps/optimizers.toml" > "$sweep"
  "$gda" sweep "$sweep" --jobs 2 --out "$out/sweep" > "$out/sweep.log" 2>&1
  for run in "$out"/sweep/runs/*/; do
    echo "sweep $(basename "$run") $(hash_of "$run/stages.jsonl")"
  done
fi
