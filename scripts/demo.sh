#!/usr/bin/env bash
# `make demo`: Method 2 (secure split fine-tuning) end to end on the bundled model and the triage task, next to
# the local baseline, in a few minutes on 2 cores:
#   1. zero-shot score of the bundled base model
#   2. local SPF+LoRA on the server's layers (the baseline split training must equal)
#   3. `sliceguard server` (untrusted host + sim enclave holding layers [2, 4), the head and every trainable
#      parameter) and 2 clients on loopback, each with a non-IID shard, training SPF+LoRA through the enclave
#   4. the split model scored by a client, and a table: zero-shot / local / split accuracy and throughput
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/src/cli/sliceguard"
model="$root/models/sliceguard-med-tiny"
data="$root/data/medical/triage"
out="$root/$build/demo"
rm -rf "$out"
mkdir -p "$out"
limit=100
common=(--batch-size 16 --seed 0)
# shellcheck source=lib/server.sh
source "$root/scripts/lib/server.sh"

echo "== the bundled base model"
"$bin" inspect "$model" | head -9
echo
echo "== zero-shot on triage (test split, first $limit)"
"$bin" eval --model "$model" --data "$data/test.jsonl" --limit $limit --threads 2 --json "$out/zero_shot.json"
echo
echo "== local SPF+LoRA on layers [2, 4): the baseline"
"$bin" finetune --model "$model" --data "$data/train.jsonl" --out "$out/local" --method spf+lora --first-layer 2 \
  --spf-density 0.1 --lr 3e-3 --epochs 3 --warmup 10 --threads 2 "${common[@]}"
"$bin" eval --model "$model" --adapter "$out/local" --data "$data/test.jsonl" --limit $limit --threads 2 \
  --json "$out/local_eval.json"
echo
echo "== split: 2 non-IID clients, layers [2, 4) + head in the server enclave"
echo '{"kind": "split", "cut_layer": 2}' > "$out/plan.json"
"$bin" data partition --data "$data/train.jsonl" --clients 2 --alpha 1.0 --seed 0 --out "$out/shards"
# One shared schedule over both clients' steps (3 epochs of each shard in batches of 16).
total=$(python3 -c "import math,sys; print(3 * sum(math.ceil(sum(1 for _ in open(f))/16) for f in sys.argv[1:]))" \
  "$out/shards/client0.jsonl" "$out/shards/client1.jsonl")
start_server "$out/server" --model "$model" --plan "$out/plan.json" --state-dir "$out/server" \
  --method spf+lora --spf-density 0.1 --lr 3e-3 --warmup 10 --total-steps "$total" --seed 0
cat "$out/server.log"
client=(--model "$model" --plan "$out/plan.json" --server "127.0.0.1:$port" --policy "$out/server/client-policy.json")
for i in 0 1; do
  "$bin" client "${client[@]}" --data "$out/shards/client$i.jsonl" --epochs 3 "${common[@]}" \
    --summary "$out/client$i.json" 2> "$out/client$i.err" | sed "s/^/[client $i] /" &
  pids[$i]=$!
done
wait "${pids[0]}" "${pids[1]}"
echo
echo "== the split model, scored by client 0 (front here, the rest in the enclave)"
"$bin" client "${client[@]}" --eval "$data/test.jsonl" --limit $limit --summary "$out/split_eval.json" 2> "$out/eval.err"
stop_server

echo
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
load = lambda name: json.load(open(os.path.join(out, name)))
zero = load("zero_shot.json")["results"][0]["score"]
local = load("local_eval.json")["results"][0]["score"]
split = load("split_eval.json")["eval"][0]["score"]
local_train = json.load(open(os.path.join(out, "local", "train_summary.json")))
clients = [load(f"client{i}.json") for i in (0, 1)]
local_tps = local_train["tokens"] / local_train["seconds"]
split_tps = sum(c["tokens"] for c in clients) / max(c["seconds"] for c in clients)
print("| triage accuracy (test, first 100) | zero-shot | local SPF+LoRA | split SPF+LoRA (2 clients) |")
print("|---|---|---|---|")
print(f"| | {zero:.3f} | {local:.3f} | {split:.3f} |")
print()
print(f"training throughput: local {local_tps:.0f} tokens/s, split {split_tps:.0f} tokens/s "
      f"(2 concurrent clients, one enclave; ratio {split_tps / local_tps:.2f})")
for i, c in enumerate(clients):
    t = c["time"]
    print(f"  client {i}: front {t['client_compute']:.1f}s, enclave {t['enclave_compute']:.1f}s, "
          f"crypto+transport+queueing {t['round_trip'] - t['enclave_compute']:.1f}s")
print("(the sim TEE backend ran here: NOT a security boundary, for development only)")
PY
