#!/usr/bin/env bash
# Split fine-tuning (Method 2) on the five medical tasks, next to its local baseline: for each task, local
# SPF+LoRA on layers [k, L) (`finetune --first-layer k`) and the same run split — `sliceguard server` (sim
# enclave) + one `sliceguard client` on loopback — both scored on the test split. Results go to
# build/results/split-k<CUT>/; scripts/write_results.py adds a table per cut to docs/RESULTS.md.
# Usage: scripts/results_split.sh   (BUILD=build, CUT=2, SEED=0)
set -euo pipefail
# shellcheck source=lib/results_setup.sh
source "$(dirname "$0")/lib/results_setup.sh"
cut=${CUT:-2}
out="$root/build/results/split-k$cut"
mkdir -p "$out"
echo "{\"kind\": \"split\", \"cut_layer\": $cut}" > "$out/plan.json"
method="--method spf+lora --spf-density 0.1 --lora-r 8 --lora-alpha 16 --lr 3e-3 --warmup 10 --seed $seed"
schedule="--epochs 3 --batch-size 16"

for task in triage drug_indication severity disease_extraction clinical_qa; do
  # shellcheck disable=SC2086
  "$bin" finetune --model "$model" --data "$data/$task/train.jsonl" --out "$out/$task.local" --first-layer "$cut" \
    $method $schedule > "$out/$task.local.log" 2>&1
  "$bin" eval --model "$model" --adapter "$out/$task.local" --data "$data/$task/test.jsonl" \
    --json "$out/$task.local.eval.json" > /dev/null

  rm -rf "$out/$task.server"
  "$bin" identity --out "$out/client.key" > /dev/null
  # shellcheck disable=SC2086
  start_server "$out/$task.server" --model "$model" --plan "$out/plan.json" --state-dir "$out/$task.server" $method \
    --enroll "$out/client.key.pub"
  # shellcheck disable=SC2086
  "$bin" client --model "$model" --plan "$out/plan.json" --server "127.0.0.1:$port" --identity "$out/client.key" \
    --policy "$out/$task.server/client-policy.json" --data "$data/$task/train.jsonl" $schedule --seed "$seed" \
    --eval "$data/$task/test.jsonl" --summary "$out/$task.split.json" > "$out/$task.split.log" 2>&1
  stop_server
  echo "results_split: $task done"
done
python3 "$root/scripts/write_results.py" "$root/build/results" "$root/docs/RESULTS.md" "$seed"
