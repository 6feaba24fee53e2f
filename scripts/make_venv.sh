#!/usr/bin/env bash
# Builds .venv for the oracle tests: Debian's torch (system site packages) + pinned PyPI packages.
# peft goes in with --no-deps: its metadata asks torch>=1.13.0, which Debian's "1.13.0a0" does not satisfy,
# and pip would then pull a multi-gigabyte CUDA torch wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp=$venv/.requirements.sha256
want=$(cat requirements-oracle.txt scripts/make_venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r requirements-oracle.txt
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps peft==0.10.0
"$venv/bin/python" -c "import torch, transformers, peft, tokenizers, sentencepiece, safetensors"
echo "$want" > "$stamp"
echo "venv: ready ($("$venv/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'))"
