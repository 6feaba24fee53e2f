#!/usr/bin/env bash
# Federated fine-tuning (Method 1) on the five medical tasks, next to centralized LoRA (scripts/results.sh):
# for each task, the training split in 3 non-IID shards (Dirichlet over labels, alpha 1.0), `sliceguard server
# --plan federated` (sim enclave aggregating, 3 rounds, all 3 clients per round) and 3 `sliceguard client`s
# at once, each with its own enclave holding the LoRA pairs (each on its own sim platform, which the server's
# client policy lists: mutual attestation); client 0 scores the global adapter on the test
# split. Results go to build/results/federated/; scripts/write_results.py adds the table to docs/RESULTS.md.
# Usage: scripts/results_federated.sh   (BUILD=build, SEED=0)
set -euo pipefail
# shellcheck source=lib/results_setup.sh
source "$(dirname "$0")/lib/results_setup.sh"
out="$root/build/results/federated"
rounds=3
mkdir -p "$out"
echo '{"kind": "federated"}' > "$out/plan.json"
# The centralized LoRA run's settings (scripts/results.sh), per client.
lora=(--lora-r 8 --lora-alpha 16 --lr 3e-3 --warmup 10 --epochs 3 --batch-size 16 --seed "$seed" --threads 1)

for task in ${TASKS:-triage drug_indication severity disease_extraction clinical_qa}; do
  rm -rf "$out/$task"
  mkdir -p "$out/$task"
  "$bin" data partition --data "$data/$task/train.jsonl" --clients 3 --alpha 1.0 --seed "$seed" --out "$out/$task/shards" > /dev/null
  platforms=()
  for i in 0 1 2; do
    "$bin" identity --out "$out/$task/client$i/sim_platform.key" > /dev/null
    platforms+=(--sim-client-platform "$out/$task/client$i/sim_platform.key.pub")
  done
  start_server "$out/$task/server" --plan "$out/plan.json" --state-dir "$out/$task/server" --rounds $rounds \
    --clients-per-round 3 "${platforms[@]}"
  pids=()
  for i in 0 1 2; do
    eval_args=()
    [ "$i" = 0 ] && eval_args=(--eval "$data/$task/test.jsonl")
    "$bin" client --plan "$out/plan.json" --model "$model" --server "127.0.0.1:$port" \
      --policy "$out/$task/server/client-policy.json" --state-dir "$out/$task/client$i" \
      --data "$out/$task/shards/client$i.jsonl" "${lora[@]}" "${eval_args[@]}" --summary "$out/$task/client$i.json" \
      > "$out/$task/client$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  stop_server
  echo "results_federated: $task done"
done
python3 "$root/scripts/write_results.py" "$root/build/results" "$root/docs/RESULTS.md" "$seed"
