#!/usr/bin/env bash
# Writes docs/RESULTS.md: accuracy on the five medical tasks for the zero-shot base model and for LoRA,
# P-tuning v2, SPF and SPF+LoRA fine-tuning (test split), with seeds, commands, trainable parameters, wall time.
# Usage: scripts/results.sh   (BUILD=build by default; takes a while on 2 cores)
set -euo pipefail
# shellcheck source=lib/results_setup.sh
source "$(dirname "$0")/lib/results_setup.sh"
out="$root/build/results"
mkdir -p "$out"

# Method -> its hyperparameters (the same for every task).
declare -A flags=(
  [lora]="--method lora --lora-r 8 --lora-alpha 16 --lr 3e-3"
  [ptuning]="--method ptuning --virtual-tokens 16 --lr 1e-2"
  [spf]="--method spf --spf-density 0.1 --spf-score l1 --lr 3e-3"
  [spf+lora]="--method spf+lora --spf-density 0.1 --lora-r 8 --lora-alpha 16 --lr 3e-3"
)
common="--epochs 3 --batch-size 16 --warmup 10 --seed $seed"

for task in triage drug_indication severity disease_extraction clinical_qa; do
  "$bin" eval --model "$model" --data "$data/$task/test.jsonl" --json "$out/$task.zero-shot.eval.json" > /dev/null
  for method in lora ptuning spf spf+lora; do
    adapter="$out/$task.$method"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$bin" finetune --model "$model" --data "$data/$task/train.jsonl" --out "$adapter" ${flags[$method]} $common \
      > "$out/$task.$method.log" 2>&1
    end=$(date +%s.%N)
    echo "{\"wall_s\": $(echo "$end - $start" | bc), \"command\": \"sliceguard finetune --model models/sliceguard-med-tiny --data data/medical/$task/train.jsonl --out OUT ${flags[$method]} $common\"}" \
      > "$out/$task.$method.run.json"
    "$bin" eval --model "$model" --adapter "$adapter" --data "$data/$task/test.jsonl" \
      --json "$out/$task.$method.eval.json" > /dev/null
    echo "results: $task $method done"
  done
done
python3 "$root/scripts/write_results.py" "$out" "$root/docs/RESULTS.md" "$seed"
