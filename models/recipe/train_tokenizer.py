"""Trains the bundled model's tokenizer (byte-level BPE, Llama-3 style) with Hugging Face `tokenizers`.

Runs as its own process in the recipe (scripts/make_base_model.sh), so no tokenizer library is ever linked
into SliceGuard. Writes tokenizer.json + tokenizer_config.json + special_tokens_map.json into OUT_DIR.
Usage: train_tokenizer.py OUT_DIR VOCAB_SIZE CORPUS_FILE...
"""
import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SPECIALS = ["<s>", "</s>", "<pad>"]


def main(out_dir, vocab_size, corpus_files):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train(corpus_files, trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    specials = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"}
    (out / "tokenizer_config.json").write_text(json.dumps(
        {**specials, "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512}, indent=2) + "\n")
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n")
    print(f"tokenizer: {tok.get_vocab_size()} tokens -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
