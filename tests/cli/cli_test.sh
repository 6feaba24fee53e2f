#!/usr/bin/env bash
# CLI contract: exit codes (0 ok, 2 usage, 1 runtime error) and one-line errors naming the file.
# Usage: cli_test.sh SLICEGUARD_BINARY CASE
set -uo pipefail
bin=$1
case_name=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_exit() {   # expect_exit CODE -- command...
  local want=$1; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: '$*' exited $got, expected $want"; cat "$tmp/out" "$tmp/err"; exit 1
  fi
}

case $case_name in
  help_exits_0)
    expect_exit 0 -- "$bin" --help
    for sub in inspect generate data pretrain finetune eval merge enclave server client identity attest; do expect_exit 0 -- "$bin" "$sub" --help; done ;;
  usage_error_exits_2)
    expect_exit 2 -- "$bin"
    expect_exit 2 -- "$bin" inspect
    expect_exit 2 -- "$bin" generate --prompt hi ;;
  inspect_corrupt_file_exits_1_with_one_line)
    printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":' > "$tmp/broken.safetensors"
    expect_exit 1 -- "$bin" inspect "$tmp/broken.safetensors"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || { echo "FAIL: expected one error line, got:"; cat "$tmp/err"; exit 1; }
    grep -q "broken.safetensors" "$tmp/err" || { echo "FAIL: error does not name the file:"; cat "$tmp/err"; exit 1; }
    [ ! -s "$tmp/out" ] || { echo "FAIL: nothing may be printed to stdout on error"; exit 1; } ;;
  inspect_missing_path_exits_1)
    expect_exit 1 -- "$bin" inspect "$tmp/nope" ;;
  finetune_merge_eval_roundtrip)
    # A few SPF+LoRA steps on the bundled model; the merged checkpoint must score exactly like base + adapter.
    root=$(cd "$(dirname "$0")/../.." && pwd)
    model="$root/models/sliceguard-med-tiny"
    head -n 64 "$root/data/medical/severity/train.jsonl" > "$tmp/train.jsonl"
    cp "$root/data/medical/severity/task.json" "$tmp/task.json"
    expect_exit 0 -- "$bin" finetune --model "$model" --data "$tmp/train.jsonl" --out "$tmp/adapter" \
      --method spf+lora --max-steps 4 --batch-size 8 --lr 1e-2 --threads 1
    expect_exit 0 -- "$bin" merge --model "$model" --adapter "$tmp/adapter" --out "$tmp/merged"
    expect_exit 0 -- "$bin" eval --model "$model" --adapter "$tmp/adapter" --data "$tmp/train.jsonl" --limit 16 \
      --json "$tmp/with_adapter.json" --threads 1
    expect_exit 0 -- "$bin" eval --model "$tmp/merged" --data "$tmp/train.jsonl" --limit 16 --json "$tmp/merged.json" --threads 1
    python3 - "$tmp/with_adapter.json" "$tmp/merged.json" <<'PY' || exit 1
import json, sys
a, b = (json.load(open(p))["results"][0] for p in sys.argv[1:])
if a["score"] != b["score"] or abs(a["perplexity"] - b["perplexity"]) > 1e-3 * a["perplexity"]:
    sys.exit(f"FAIL: merged {b} differs from base+adapter {a}")
PY
    ;;
  attest_verify_real_evidence)
    # Evidence captured on real hardware (tests/attest/vectors), its collateral cached as deploy/cvm lays it out.
    root=$(cd "$(dirname "$0")/../.." && pwd)
    v="$root/tests/attest/vectors"
    mkdir -p "$tmp/cache/intel" "$tmp/cache/amd"
    for tee in sgx tdx; do
      cp "$v/$tee/phala_${tee}_quote_collateral.json" \
        "$("$bin" attest collateral-path --evidence "$v/$tee/phala_${tee}_quote.dat" --collateral "$tmp/cache")"
    done
    cp "$v/snp/vcek.der" "$("$bin" attest collateral-path --evidence "$v/snp/attestation.bin" --collateral "$tmp/cache")"
    at=2025-06-25T00:00:00Z
    policy() {   # policy FILE MEASUREMENT HARDWARE_JSON [ALLOW_DEBUG]
      printf '{"allowed_backends": ["gramine", "tsm"], "allowed_measurements": ["%s"], "allow_debug": %s, "hardware": %s}' \
        "$2" "${4:-false}" "$3" > "$1"
    }
    measurement() {   # measurement EVIDENCE FIELD: the claims of a run refused for its measurement
      policy "$tmp/probe.json" "$(printf '0%.0s' $(seq 64))" '{}'
      expect_exit 1 -- "$bin" attest verify --evidence "$1" --collateral "$tmp/cache" --policy "$tmp/probe.json" --at $at --json
      python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['claims'][sys.argv[2]])" "$tmp/out" "$2"
    }
    sgx=$(measurement "$v/sgx/phala_sgx_quote.dat" mr_enclave)
    policy "$tmp/sgx.json" "$sgx" '{"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"]}'
    expect_exit 0 -- "$bin" attest verify --evidence "$v/sgx/phala_sgx_quote.dat" --collateral "$tmp/cache" --policy "$tmp/sgx.json" --at $at
    grep -q "verdict: accepted" "$tmp/out" || { echo "FAIL: no verdict"; cat "$tmp/out"; exit 1; }
    grep -q "INTEL-SA-00615" "$tmp/out" || { echo "FAIL: advisories not shown"; cat "$tmp/out"; exit 1; }
    policy "$tmp/sgx_strict.json" "$sgx" '{}'
    for args in "--policy $tmp/sgx_strict.json --at $at|tcb_status: TCB status ConfigurationAndSWHardeningNeeded" \
                "--policy $tmp/sgx.json --at 2025-08-24T00:00:00Z|CRL has expired" \
                "--policy $tmp/sgx.json --at $at --report-data $(printf 'ab%.0s' $(seq 64))|report_data: the evidence carries"; do
      expect_exit 1 -- "$bin" attest verify --evidence "$v/sgx/phala_sgx_quote.dat" --collateral "$tmp/cache" ${args%%|*}
      [ "$(wc -l < "$tmp/err")" -eq 1 ] || { echo "FAIL: expected one error line:"; cat "$tmp/err"; exit 1; }
      grep -q "${args#*|}" "$tmp/err" || { echo "FAIL: expected '${args#*|}':"; cat "$tmp/err"; exit 1; }
    done
    tdx=$(measurement "$v/tdx/phala_tdx_quote.dat" mr_td)
    policy "$tmp/tdx_mrtd_only.json" "$tdx" '{}'
    expect_exit 1 -- "$bin" attest verify --evidence "$v/tdx/phala_tdx_quote.dat" --collateral "$tmp/cache" --policy "$tmp/tdx_mrtd_only.json" --at $at
    grep -q "rtmr: the policy pins no RTMR" "$tmp/err" || { echo "FAIL: MRTD alone accepted"; cat "$tmp/err"; exit 1; }
    policy "$tmp/tdx.json" "$tdx" '{"tdx": {"any_rtmr": true}}'
    expect_exit 0 -- "$bin" attest verify --evidence "$v/tdx/phala_tdx_quote.dat" --collateral "$tmp/cache" --policy "$tmp/tdx.json" --at $at --json
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['verdict']=='accepted' and d['claims']['tcb_status']=='UpToDate', d" "$tmp/out" || exit 1
    snp=$(measurement "$v/snp/attestation.bin" measurement)
    policy "$tmp/snp.json" "$snp" '{}'
    expect_exit 1 -- "$bin" attest verify --evidence "$v/snp/attestation.bin" --collateral "$tmp/cache" --policy "$tmp/snp.json" --at $at
    grep -q "debug: sev-snp evidence" "$tmp/err" || { echo "FAIL: debug guest not refused by name"; cat "$tmp/err"; exit 1; }
    policy "$tmp/snp_debug.json" "$snp" '{}' true
    expect_exit 0 -- "$bin" attest verify --evidence "$v/snp/attestation.bin" --collateral "$tmp/cache" --policy "$tmp/snp_debug.json" --at $at
    ;;
  *)
    echo "unknown case $case_name"; exit 1 ;;
esac
echo "ok: $case_name"
