#!/usr/bin/env bash
# `make demo`: local fine-tuning on the bundled model and data, end to end, in a few minutes on 2 cores:
# inspect the bundled checkpoint, score it zero-shot on the triage task, fine-tune it with SPF+LoRA,
# score it again, and answer a clinical question with the fine-tuned clinical_qa adapter.
# (The secure split/federated demo replaces this once Method 2 lands.)
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/src/cli/sliceguard"
model="$root/models/sliceguard-med-tiny"
data="$root/data/medical"
out="$root/$build/demo"
mkdir -p "$out"

echo "== the bundled base model"
"$bin" inspect "$model" | head -9
echo
echo "== zero-shot on triage (test split, first 100)"
"$bin" eval --model "$model" --data "$data/triage/test.jsonl" --limit 100
echo
echo "== fine-tune with SPF+LoRA on triage"
"$bin" finetune --model "$model" --data "$data/triage/train.jsonl" --out "$out/triage.spf+lora" \
  --method spf+lora --spf-density 0.1 --lr 3e-3 --epochs 1 --batch-size 16 --warmup 10 --seed 0
echo
echo "== fine-tuned on triage"
"$bin" eval --model "$model" --adapter "$out/triage.spf+lora" --data "$data/triage/test.jsonl" --limit 100
