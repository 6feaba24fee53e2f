#!/usr/bin/env bash
# Method 2 through the real commands: `sliceguard server` (host + enclave process) and `sliceguard client`.
# Usage: multi_client_test.sh SLICEGUARD_BINARY CASE
#   three_clients_and_a_killed_one   3 clients on non-IID shards train concurrently against one server while a
#                                    4th is killed (SIGKILL) mid-run; the 3 finish, the server keeps serving
#   strict_policy_refuses_sim        a client whose policy forbids sim exits 1 with one line, sends nothing
#   tls_outer_transport              a TLS server: a client trusting its certificate trains, a plaintext one fails
#   restart_resumes_sealed_state     the server is killed (SIGKILL) after 6 steps and restarted; the client
#                                    resumes from the sealed step 6, and steps 7-10 equal an uninterrupted run's
#                                    (the interrupted server reaches its enclave over the tcp boundary, the
#                                    uninterrupted one over the shared ring)
#   unenrolled_client_refused        a client whose key the server did not enroll exits 1 and opens no session
#   hardware_measure_prints_the_config_digest
#                                    --measure with --tee tsm / gramine prints the SHA-256 of the config it wrote
#   rewound_state_refused            the operator restarts the server on an older sealed blob; a client that saw
#                                    a newer generation refuses to go on
set -uo pipefail
bin=$1
case_name=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
model="$root/models/sliceguard-med-tiny"
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out "$tmp"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }

echo '{"kind": "split", "cut_layer": 2}' > "$tmp/plan.json"

# Every client below has its own identity; the server enrolls them all (but not "stranger").
names=(victim c0 c1 c2 after gen strict tls plain first resumed fresh again stranger)
for name in "${names[@]}"; do "$bin" identity --out "$tmp/id/$name.key" > /dev/null || fail "identity $name"; done
enroll=()
for name in "${names[@]}"; do [ "$name" != stranger ] && enroll+=(--enroll "$tmp/id/$name.key.pub"); done
server_args=(--model "$model" --plan "$tmp/plan.json" --state-dir "$tmp/state" --method spf+lora --lr 3e-3 "${enroll[@]}")
start_server() {
  "$bin" server "${server_args[@]}" --listen 127.0.0.1:0 --record-relay "$tmp/relay.bin" > "$tmp/server.out" 2> "$tmp/server.err" &
  server_pid=$!
  for _ in $(seq 1 120); do
    port=$(sed -n 's/^server: listening on port \([0-9]*\).*/\1/p' "$tmp/server.out")
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "server exited early"
    sleep 0.5
  done
  fail "server did not start listening"
}

client() {   # client NAME POLICY args...
  local name=$1 policy=$2; shift 2
  "$bin" client --model "$model" --plan "$tmp/plan.json" --server "127.0.0.1:$port" --policy "$policy" \
    --identity "$tmp/id/$name.key" --summary "$tmp/$name.json" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
}

case $case_name in
  three_clients_and_a_killed_one)
    server_args+=(--total-steps 40)
    start_server
    grep -q "NOT a security boundary" "$tmp/server.err" || fail "the sim server did not warn that it is not a security boundary"
    # The measurement an operator computes offline (--measure) is the one the running enclave attests to.
    offline=$("$bin" server "${server_args[@]}" --measure 2> /dev/null)
    grep -qx "server: enclave measurement $offline" "$tmp/server.out" || fail "--measure gave '$offline', the enclave attests another"
    "$bin" data partition --data "$root/data/medical/triage/train.jsonl" --clients 3 --alpha 0.5 --seed 0 \
      --out "$tmp/shards" > /dev/null || fail "partition"
    client victim "$tmp/state/client-policy.json" --data "$tmp/shards/client0.jsonl" --max-steps 1000 --batch-size 8 &
    victim=$!
    for i in 0 1 2; do
      client "c$i" "$tmp/state/client-policy.json" --data "$tmp/shards/client$i.jsonl" --max-steps 6 --batch-size 8 &
      pids[$i]=$!
    done
    # Kill the victim once it is training (its progress lines go to stderr).
    for _ in $(seq 1 120); do grep -q "step" "$tmp/victim.err" 2>/dev/null && break; sleep 0.5; done
    kill -9 "$victim"; wait "$victim" 2>/dev/null
    for i in 0 1 2; do wait "${pids[$i]}" || fail "client c$i exited non-zero"; done
    for i in 0 1 2; do
      python3 -c "import json,sys; s=json.load(open('$tmp/c$i.json')); sys.exit(0 if s['steps']==6 and len(s['losses'])==6 else 1)" \
        || fail "client c$i did not finish 6 steps"
    done
    kill -0 "$server_pid" 2>/dev/null || fail "the server died with the killed client"
    # Still serving: a fresh client evaluates the trained split model.
    client after "$tmp/state/client-policy.json" --eval "$root/data/medical/triage/test.jsonl" --limit 4 \
      || fail "the server stopped serving after a client was killed"
    "$bin" generate --split --server "127.0.0.1:$port" --plan "$tmp/plan.json" --policy "$tmp/state/client-policy.json" \
      --identity "$tmp/id/gen.key" --model "$model" --prompt "Chest pain radiating to the left arm." --max-new-tokens 8 > "$tmp/gen.out" 2> "$tmp/gen.err" \
      || fail "generate --split"
    grep -q "Chest pain" "$tmp/gen.out" && grep -q "tokens/s" "$tmp/gen.err" || fail "generate --split printed nothing"
    [ -s "$tmp/relay.bin" ] || fail "the relay record is empty"
    kill -TERM "$server_pid"; wait "$server_pid"; rc=$?; server_pid=
    [ "$rc" -eq 0 ] || fail "server exited $rc on SIGTERM" ;;
  strict_policy_refuses_sim)
    start_server
    echo "{\"allowed_backends\": [\"gramine\"], \"allowed_measurements\": [\"$(printf 'a%.0s' $(seq 64))\"]}" > "$tmp/strict.json"
    client strict "$tmp/strict.json" --data "$root/data/medical/triage/train.jsonl" --max-steps 2
    rc=$?
    [ "$rc" -eq 1 ] || fail "client exited $rc, expected 1"
    [ "$(wc -l < "$tmp/strict.err")" -eq 1 ] || fail "expected one error line"
    grep -q "evidence refused by policy" "$tmp/strict.err" || fail "error does not say the evidence was refused"
    [ ! -s "$tmp/relay.bin" ] || fail "frames were relayed before attestation succeeded" ;;
  tls_outer_transport)
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
      -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2> /dev/null || fail "openssl"
    server_args+=(--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem")
    start_server
    client tls "$tmp/state/client-policy.json" --tls-ca "$tmp/cert.pem" \
      --data "$root/data/medical/triage/train.jsonl" --max-steps 2 || fail "TLS client"
    client plain "$tmp/state/client-policy.json" --connect-timeout 2 --data "$root/data/medical/triage/train.jsonl" --max-steps 2
    [ $? -eq 1 ] || fail "a plaintext client reached a TLS server"
    grep -q "unreachable" "$tmp/plain.err" || fail "the plaintext client's error does not say the server is unreachable" ;;
  restart_resumes_sealed_state)
    server_args+=(--seal-every-steps 2 --seal-every-seconds 0 --total-steps 10 --enclave-transport tcp)
    train=(--data "$root/data/medical/severity/train.jsonl" --batch-size 8)
    start_server
    client first "$tmp/state/client-policy.json" "${train[@]}" --max-steps 6 || fail "first client"
    kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=
    [ -s "$tmp/state/sealed_state.bin" ] || fail "no sealed state on disk after the crash"
    start_server
    grep -q "restored the sealed trainer at step 6" "$tmp/server.err" && fail "restored before any client asked"
    client resumed "$tmp/state/client-policy.json" "${train[@]}" --max-steps 10 --resume || fail "resumed client"
    grep -q "restored the sealed trainer at step 6" "$tmp/server.err" || fail "the enclave did not restore step 6"
    kill "$server_pid"; wait "$server_pid"; server_pid=
    # The same 10 steps without interruption, on a fresh server.
    server_args=("${server_args[@]/$tmp\/state/$tmp/state-fresh}")
    for i in "${!server_args[@]}"; do [ "${server_args[$i]}" = tcp ] && server_args[$i]=ring; done
    start_server
    client fresh "$tmp/state-fresh/client-policy.json" "${train[@]}" --max-steps 10 || fail "uninterrupted client"
    python3 - "$tmp" <<'PY' || fail "the resumed run does not continue the interrupted one"
import json, sys
t = sys.argv[1]
first, resumed, fresh = (json.load(open(f"{t}/{n}.json"))["losses"] for n in ("first", "resumed", "fresh"))
assert len(first) == 6 and len(resumed) == 4 and len(fresh) == 10, (len(first), len(resumed), len(fresh))
worst = max(abs(a - b) for a, b in zip(first + resumed, fresh))
print(f"max |loss difference| interrupted vs uninterrupted: {worst:.2e}")
assert worst < 1e-5
PY
    ;;
  unenrolled_client_refused)
    start_server
    client stranger "$tmp/state/client-policy.json" --data "$root/data/medical/triage/train.jsonl" --max-steps 2
    rc=$?
    [ "$rc" -eq 1 ] || fail "an unenrolled client exited $rc, expected 1"
    grep -q "is not enrolled in this job" "$tmp/stranger.err" || fail "the error does not say the key is not enrolled"
    [ ! -s "$tmp/relay.bin" ] || fail "frames were relayed for an unenrolled client"
    "$bin" server --model "$model" --plan "$tmp/plan.json" --state-dir "$tmp/no-enroll" --measure > /dev/null 2> "$tmp/no-enroll.err"
    [ $? -eq 2 ] && grep -q -- "--enroll" "$tmp/no-enroll.err" || fail "a split server without --enroll was not refused" ;;
  rewound_state_refused)
    server_args+=(--seal-every-steps 2 --seal-every-seconds 0 --total-steps 20)
    train=(--data "$root/data/medical/severity/train.jsonl" --batch-size 8)
    start_server
    client first "$tmp/state/client-policy.json" "${train[@]}" --max-steps 2 || fail "first run"
    cp "$tmp/state/sealed_state.bin" "$tmp/old_state.bin"
    client again "$tmp/state/client-policy.json" "${train[@]}" --max-steps 6 --resume || fail "second run"
    kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=
    cp "$tmp/old_state.bin" "$tmp/state/sealed_state.bin"   # the operator rolls the state back
    start_server
    client again "$tmp/state/client-policy.json" "${train[@]}" --max-steps 8 --resume
    [ $? -eq 1 ] || fail "a client went on with a rewound server state"
    grep -q "rewinding the training" "$tmp/again.err" || fail "the error does not say the state was rewound" ;;
  hardware_measure_prints_the_config_digest)
    # For gramine and tsm the hardware measures the image; --measure prints what the host decides: the SHA-256
    # of the enclave config it writes (the value a tsm policy's allowed_configs lists), and only that on stdout.
    for tee in tsm gramine; do
      digest=$("$bin" server "${server_args[@]/$tmp\/state/$tmp/$tee}" --tee "$tee" --measure 2> "$tmp/$tee.err") \
        || fail "--measure with --tee $tee"
      expected=$(sha256sum "$tmp/$tee/enclave.json" | cut -d' ' -f1)
      [ "$digest" = "$expected" ] || fail "--tee $tee --measure printed '$digest', the config's SHA-256 is $expected"
      grep -q "allowed_configs" "$tmp/$tee.err" || fail "--tee $tee --measure did not say what the digest is for"
    done ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
echo "ok: $case_name"
