#!/usr/bin/env bash
# `make demo`: both secure modes end to end on the bundled model and the triage task, next to their local
# baselines, in a few minutes on 2 cores:
#   1. zero-shot score of the bundled base model
#   2. Method 2: local SPF+LoRA on the server's layers (the baseline split training must equal); then
#      `sliceguard server` (untrusted host + sim enclave holding layers [2, 4), the head and every trainable
#      parameter) and 2 clients on loopback, each with a non-IID shard, training SPF+LoRA through the enclave;
#      the split model scored by a client
#   3. Method 1: local LoRA on all the data; then `sliceguard server --plan federated` (the aggregating enclave)
#      and 3 clients with non-IID shards, each running the frozen base with its LoRA in its own enclave, 3 rounds
#      of FedAvg; the global adapter scored by a client
#   4. a table: zero-shot / local / secure accuracy and throughput
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
# local_baseline NAME METHOD_ARGS...: fine-tunes on all the training data into $out/NAME (the settings every
# secure run here shares) and scores it into $out/NAME_eval.json.
local_baseline() {
  local name=$1
  shift
  "$bin" finetune --model "$model" --data "$data/train.jsonl" --out "$out/$name" "$@" --lr 3e-3 --epochs 3 \
    --warmup 10 --threads 2 "${common[@]}"
  "$bin" eval --model "$model" --adapter "$out/$name" --data "$data/test.jsonl" --limit $limit --threads 2 \
    --json "$out/${name}_eval.json"
}

echo "== zero-shot on triage (test split, first $limit)"
"$bin" eval --model "$model" --data "$data/test.jsonl" --limit $limit --threads 2 --json "$out/zero_shot.json"
echo
echo "== local SPF+LoRA on layers [2, 4): the baseline"
local_baseline local --method spf+lora --first-layer 2 --spf-density 0.1
echo
echo "== split: 2 non-IID clients, layers [2, 4) + head in the server enclave"
echo '{"kind": "split", "cut_layer": 2}' > "$out/plan.json"
"$bin" data partition --data "$data/train.jsonl" --clients 2 --alpha 1.0 --seed 0 --out "$out/shards"
# One shared schedule over both clients' steps (3 epochs of each shard in batches of 16).
total=$(python3 -c "import math,sys; print(3 * sum(math.ceil(sum(1 for _ in open(f))/16) for f in sys.argv[1:]))" \
  "$out/shards/client0.jsonl" "$out/shards/client1.jsonl")
# Each data owner makes an identity; the model owner enrolls their public keys: nobody else, the operator
# included, can open a session with the enclave.
for i in 0 1; do "$bin" identity --out "$out/ids/client$i.key" > /dev/null; done
start_server "$out/server" --model "$model" --plan "$out/plan.json" --state-dir "$out/server" \
  --method spf+lora --spf-density 0.1 --lr 3e-3 --warmup 10 --total-steps "$total" --seed 0 \
  --enroll "$out/ids/client0.key.pub" --enroll "$out/ids/client1.key.pub"
cat "$out/server.log"
client=(--model "$model" --plan "$out/plan.json" --server "127.0.0.1:$port" --policy "$out/server/client-policy.json")
for i in 0 1; do
  "$bin" client "${client[@]}" --identity "$out/ids/client$i.key" --data "$out/shards/client$i.jsonl" --epochs 3 "${common[@]}" \
    --summary "$out/client$i.json" 2> "$out/client$i.err" | sed "s/^/[client $i] /" &
  pids[$i]=$!
done
wait "${pids[0]}" "${pids[1]}"
echo
echo "== the split model, scored by client 0 (front here, the rest in the enclave)"
"$bin" client "${client[@]}" --identity "$out/ids/client0.key" --eval "$data/test.jsonl" --limit $limit --summary "$out/split_eval.json" 2> "$out/eval.err"
stop_server

echo
echo "== local LoRA on all the data: the federated baseline"
local_baseline local_lora --method lora
echo
echo "== federated: 3 non-IID clients, LoRA in each client's enclave, FedAvg in the server enclave"
echo '{"kind": "federated"}' > "$out/federated.json"
"$bin" data partition --data "$data/train.jsonl" --clients 3 --alpha 1.0 --seed 0 --out "$out/fed_shards"
# Each client machine has its own (sim) platform; the server admits enclaves on those platforms only.
platforms=()
for i in 0 1 2; do
  "$bin" identity --out "$out/fed_client$i/sim_platform.key" > /dev/null
  platforms+=(--sim-client-platform "$out/fed_client$i/sim_platform.key.pub")
done
start_server "$out/fed_server" --plan "$out/federated.json" --state-dir "$out/fed_server" --rounds 3 \
  --clients-per-round 3 "${platforms[@]}"
cat "$out/fed_server.log"
for i in 0 1 2; do
  eval_args=()
  [ "$i" = 0 ] && eval_args=(--eval "$data/test.jsonl" --limit $limit)
  "$bin" client --plan "$out/federated.json" --model "$model" --server "127.0.0.1:$port" \
    --policy "$out/fed_server/client-policy.json" --state-dir "$out/fed_client$i" --data "$out/fed_shards/client$i.jsonl" --lr 3e-3 --warmup 10 --epochs 3 \
    --threads 1 "${common[@]}" "${eval_args[@]}" --summary "$out/fed_client$i.json" 2> "$out/fed_client$i.err" |
    sed "s/^/[client $i] /" &
  pids[$i]=$!
done
wait "${pids[0]}" "${pids[1]}" "${pids[2]}"
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
local_lora = load("local_lora_eval.json")["results"][0]["score"]
federated = [load(f"fed_client{i}.json") for i in (0, 1, 2)]
print("| triage accuracy (test, first 100) | zero-shot | local | secure |")
print("|---|---|---|---|")
print(f"| Method 2, SPF+LoRA on layers [2, 4) | {zero:.3f} | {local:.3f} | {split:.3f} (split, 2 clients) |")
print(f"| Method 1, LoRA | {zero:.3f} | {local_lora:.3f} | {federated[0]['eval'][0]['score']:.3f} "
      f"(federated, 3 non-IID clients, {federated[0]['rounds']} rounds) |")
print()
print(f"training throughput: local {local_tps:.0f} tokens/s, split {split_tps:.0f} tokens/s "
      f"(2 concurrent clients, one enclave; ratio {split_tps / local_tps:.2f})")
for i, c in enumerate(clients):
    t = c["time"]
    print(f"  client {i}: front {t['client_compute']:.1f}s, enclave {t['enclave_compute']:.1f}s, "
          f"crypto+transport+queueing {t['round_trip'] - t['enclave_compute']:.1f}s")
lora_train = json.load(open(os.path.join(out, "local_lora", "train_summary.json")))
fed_tps = sum(c["tokens"] for c in federated) / max(c["seconds"] for c in federated)
print(f"federated local steps: {fed_tps:.0f} tokens/s over 3 concurrent clients (each with its own enclave) vs "
      f"local LoRA {lora_train['tokens'] / lora_train['seconds']:.0f} tokens/s")
print("(the sim TEE backend ran here: NOT a security boundary, for development only)")
PY
