#!/usr/bin/env bash
# Method 1 through the real commands: `sliceguard server --plan federated` and `sliceguard client --plan
# federated`, each client with its own enclave.
# Usage: federated_cli_test.sh SLICEGUARD_BINARY CASE
#   three_clients_and_a_killed_one   3 clients on non-IID shards, 2 rounds, quorum 2: one client is killed
#                                    (SIGKILL, its enclave goes with it) mid-run; every round closes with the
#                                    other two, which finish with the same global adapter
#   client_policy_refuses_other_code a server whose client policy admits other enclave code: the client exits 1
#                                    naming the refusal
#   prefix_clients_secure_aggregation 2 clients with P-tuning's prefix in their enclaves (--method ptuning), 2
#                                    rounds with secure aggregation, each checking the other against its peer
#                                    policy (--sim-peer-platform; both sides lowered to --min-participants 2,
#                                    which the defaults refuse): both end with the same global prefix, so
#                                    scoring and generating on the same test examples gives the same results
#   unlisted_platform_refused        a client enclave on a sim platform the server did not list exits 1; a
#                                    server without client platforms (or a client policy) refuses to start
#
# Every client runs on its own sim platform (<state-dir>/sim_platform.key, made before the server starts); the
# server admits the platforms it lists with --sim-client-platform and never hands its own key to anyone.
set -uo pipefail
bin=$1
case_name=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
model="$root/models/sliceguard-med-tiny"
tmp=$(mktemp -d)
# shellcheck source=../../scripts/lib/server.sh
source "$root/scripts/lib/server.sh"
trap 'stop_server; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log "$tmp"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }

echo '{"kind": "federated"}' > "$tmp/plan.json"
platforms=()
for name in victim c0 c1 refused p0 p1 listed; do
  "$bin" identity --out "$tmp/$name/sim_platform.key" > /dev/null || fail "platform key for $name"
  platforms+=(--sim-client-platform "$tmp/$name/sim_platform.key.pub")
done
client() {   # client NAME args...
  local name=$1; shift
  "$bin" client --model "$model" --plan "$tmp/plan.json" --server "127.0.0.1:$port" \
    --policy "$tmp/state/client-policy.json" --state-dir "$tmp/$name" --summary "$tmp/$name.json" --threads 1 \
    "$@" > "$tmp/$name.log" 2> "$tmp/$name.err"
}

case $case_name in
  three_clients_and_a_killed_one)
    start_server "$tmp/server" --plan "$tmp/plan.json" --state-dir "$tmp/state" --rounds 2 --clients-per-round 3 \
      --quorum 2 --round-timeout 4 "${platforms[@]}" || fail "server did not start"
    grep -q "NOT a security boundary" "$tmp/server.err" || fail "the sim server did not warn that it is not a security boundary"
    "$bin" data partition --data "$root/data/medical/triage/train.jsonl" --clients 3 --alpha 0.5 --seed 0 \
      --out "$tmp/shards" > /dev/null || fail "partition"
    client victim --data "$tmp/shards/client2.jsonl" --max-steps 1000 --batch-size 8 &
    victim=$!
    for i in 0 1; do
      client "c$i" --data "$tmp/shards/client$i.jsonl" --max-steps 4 --batch-size 8 &
      pids[$i]=$!
    done
    sleep 3
    kill -9 "$victim"
    for i in 0 1; do wait "${pids[$i]}" || fail "client c$i failed"; done
    for i in 0 1; do
      python3 - "$tmp/c$i.json" <<'PY' || fail "client c$i: rounds did not close with the two live clients"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["rounds"] == 2 and s["contributors"] == [2, 2] and s["steps"] == 4, s
PY
    done
    kill -0 "$server_pid" 2>/dev/null || fail "the server died"
    ;;
  client_policy_refuses_other_code)
    key_dir="$tmp/state"
    mkdir -p "$key_dir"
    printf '{"allowed_backends":["sim"],"allow_sim":true,"allowed_code":["%s"],"sim_platform_keys":["%s"]}' \
      "$(printf 'a%.0s' $(seq 64))" "$(printf 'b%.0s' $(seq 64))" > "$tmp/other-code.json"
    start_server "$tmp/server" --plan "$tmp/plan.json" --state-dir "$tmp/state" --client-policy "$tmp/other-code.json" \
      || fail "server did not start"
    client refused --data "$root/data/medical/triage/train.jsonl" --max-steps 2
    rc=$?
    [ "$rc" = 1 ] || fail "a client outside the client policy exited $rc, expected 1"
    grep -q "peer refused" "$tmp/refused.err" || fail "the refusal does not say the server enclave refused the peer"
    ;;
  prefix_clients_secure_aggregation)
    start_server "$tmp/server" --plan "$tmp/plan.json" --state-dir "$tmp/state" --rounds 2 --clients-per-round 2 \
      --secure-aggregation --min-participants 2 "${platforms[@]}" || fail "server did not start"
    head -n 20 "$root/data/medical/triage/test.jsonl" > "$tmp/triage.jsonl"
    cp "$root/data/medical/triage/task.json" "$tmp/task.json"
    head -n 3 "$root/data/medical/clinical_qa/test.jsonl" > "$tmp/qa.jsonl"
    for i in 0 1; do
      client "p$i" --method ptuning --virtual-tokens 4 --prefix-projection --lr 1e-2 --min-participants 2 \
        --secure-aggregation --sim-peer-platform "$tmp/p0/sim_platform.key.pub" \
        --sim-peer-platform "$tmp/p1/sim_platform.key.pub" \
        --data "$root/data/medical/triage/train.jsonl" --max-steps 4 --batch-size 8 --seed "$i" \
        --eval "$tmp/triage.jsonl" --eval "$tmp/qa.jsonl" --max-new-tokens 8 &
      pids[$i]=$!
    done
    for i in 0 1; do wait "${pids[$i]}" || fail "prefix client p$i failed"; done
    grep -q "4-token prefix" "$tmp/p0.err" || fail "the client did not report the prefix held in its enclave"
    python3 - "$tmp/p0.json" "$tmp/p1.json" <<'PY' || fail "the prefix clients did not end with the same global prefix"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for s in (a, b):
    assert s["rounds"] == 2 and s["contributors"] == [2, 2] and s["steps"] == 4, s
    assert [e["examples"] for e in s["eval"]] == [20, 3], s["eval"]
assert [(e["score"], e["perplexity"]) for e in a["eval"]] == [(e["score"], e["perplexity"]) for e in b["eval"]], (a["eval"], b["eval"])
PY
    ;;
  unlisted_platform_refused)
    start_server "$tmp/server" --plan "$tmp/plan.json" --state-dir "$tmp/state" \
      --sim-client-platform "$tmp/listed/sim_platform.key.pub" || fail "server did not start"
    client refused --data "$root/data/medical/triage/train.jsonl" --max-steps 2
    rc=$?
    [ "$rc" = 1 ] || fail "a client on an unlisted platform exited $rc, expected 1"
    grep -q "peer refused" "$tmp/refused.err" || fail "the refusal does not say the server enclave refused the peer"
    stop_server
    "$bin" server --plan "$tmp/plan.json" --state-dir "$tmp/none" --measure > /dev/null 2> "$tmp/none.err"
    [ $? = 2 ] && grep -q -- "--sim-client-platform" "$tmp/none.err" || fail "a sim server without client platforms started"
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS: $case_name"
