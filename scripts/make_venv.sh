#!/usr/bin/env bash
# Builds .venv: the pinned torch wheel, whose LibTorch the C++ build links, and the oracle packages on that same
# torch. requirements-oracle.txt is a complete lock installed with --no-deps (see its header for why).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp=$venv/.requirements.sha256
want=$(cat requirements-oracle.txt scripts/make_venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r requirements-oracle.txt
"$venv/bin/python" -c "import torch, transformers, peft, tokenizers, sentencepiece, safetensors"
echo "$want" > "$stamp"
echo "venv: ready ($("$venv/bin/python" -c 'import torch, transformers, peft
print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'))"
