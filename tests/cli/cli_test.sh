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
    for sub in inspect generate; do expect_exit 0 -- "$bin" "$sub" --help; done ;;
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
  *)
    echo "unknown case $case_name"; exit 1 ;;
esac
echo "ok: $case_name"
