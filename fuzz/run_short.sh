#!/usr/bin/env bash
# Builds every libFuzzer target (fuzz/*_fuzz.cpp) with clang in build-fuzz and runs each one briefly, seeded
# from fuzz/corpus/<name>/ and fuzz/<name>.dict when present. New inputs are kept in build-fuzz/corpus/<name>/,
# crashing inputs in build-fuzz/crashes/; the script fails on the first crash.
# Usage: fuzz/run_short.sh [seconds per fuzzer, default 20]   (JOBS=n sets build parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
build=build-fuzz

# -fsanitize=fuzzer-no-link instruments the libraries under test for coverage; SG_SANITIZE adds ASan + UBSan,
# and -fno-sanitize-recover makes every UBSan report a crash libFuzzer stops on.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DSG_FUZZ=ON -DSG_SANITIZE=ON -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
cmake --build "$build" --target sg_fuzzers -j "${JOBS:-$(nproc)}"

mkdir -p "$build/crashes"
for source in fuzz/*_fuzz.cpp; do
  name="$(basename "$source" .cpp)"
  if [[ ! -x "$build/fuzz/$name" ]]; then
    echo "error: $source is not built: add sg_add_fuzzer($name $name.cpp <libs>) to fuzz/CMakeLists.txt" >&2
    exit 1
  fi
  args=(-max_total_time="$seconds" -artifact_prefix="$build/crashes/$name-" -print_final_stats=1)
  [[ -f "fuzz/$name.dict" ]] && args+=(-dict="fuzz/$name.dict")
  corpora=("$build/corpus/$name")   # the first corpus directory receives new inputs
  [[ -d "fuzz/corpus/$name" ]] && corpora+=("fuzz/corpus/$name")
  mkdir -p "$build/corpus/$name"
  echo "== $name: ${seconds}s"
  "$build/fuzz/$name" "${args[@]}" "${corpora[@]}"
done
