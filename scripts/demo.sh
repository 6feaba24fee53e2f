#!/usr/bin/env bash
# `make demo`: today, the Foundation demo. It builds a tiny random llama checkpoint with the pinned
# Hugging Face `transformers` (.venv), inspects it and streams a generation from it with our C++ runtime.
# The weights are random, so the text is gibberish: this shows the pipeline, not a trained model.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
demo_dir="$root/$build/demo"

"$root/scripts/make_venv.sh"
"$root/.venv/bin/python" "$root/tests/oracle/make_model_fixtures.py" "$demo_dir" > /dev/null
model="$demo_dir/llama_gqa"

echo "== sliceguard inspect $model"
"$root/$build/src/cli/sliceguard" inspect "$model" | head -12
echo
echo "== sliceguard generate (random weights: expect gibberish)"
"$root/$build/src/cli/sliceguard" generate --model "$model" --prompt "The patient reports" --max-new-tokens 24
