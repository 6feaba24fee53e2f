#!/usr/bin/env bash
# Regenerates the bundled base model models/sliceguard-med-tiny and the shipped task data data/medical.
# Provenance (all offline): the knowledge table of src/data (written as notes by `sliceguard data notes`),
# repeated with the general English of Debian's license texts (/usr/share/common-licenses, from base-files).
# The tokenizer is trained in its own process (Python `tokenizers`), the model by `sliceguard pretrain`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
bin="$root/$build/src/cli/sliceguard"
work="$root/build/recipe"
mkdir -p "$work"

"$bin" data medical --out "$root/data/medical" --seed 0
"$bin" data notes --out "$work/notes.txt"

# Corpus: the notes 40 times (they are short) and the license texts once, one document per line.
: > "$work/corpus.txt"
for _ in $(seq 40); do cat "$work/notes.txt" >> "$work/corpus.txt"; done
for f in /usr/share/common-licenses/{GPL-3,LGPL-3,Apache-2.0,MPL-2.0,Artistic}; do
  tr -s '\n' < "$f" | awk 'length > 20' >> "$work/corpus.txt"
done

"$root/.venv/bin/python" "$root/models/recipe/train_tokenizer.py" "$work/tokenizer" 2048 \
  "$work/corpus.txt" "$root/data/medical"/*/train.jsonl
"$bin" pretrain --config "$root/models/recipe/pretrain.json"
