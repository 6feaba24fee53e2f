"""Builds tiny tokenizers locally and the reference ids / decoded texts the C++ oracle test must reproduce.

Run with the pinned .venv (scripts/make_venv.sh): `python make_fixtures.py <out_dir>`. Nothing is downloaded:
every tokenizer is trained here on the inline corpus. For each fixture it writes <out>/<name>/ (the tokenizer
files as a checkpoint ships them) and <out>/<name>/expected.json:
  {"cases": [{"text", "ids", "ids_no_special", "decoded", "decoded_skip_special"}]}
where ids come from `tokenizers` (tokenizer.json fixtures) or sentencepiece itself, split around the special tokens
as transformers' slow LlamaTokenizer did (the sentencepiece fixture; see legacy_llama_ids), and decoded texts from
`tokenizers` decode of `ids` (for the sentencepiece fixture: the decoder transformers' Llama conversion writes, over
sentencepiece's pieces).
"""
import json
import re
import sys
from pathlib import Path

import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import LlamaTokenizerFast

CORPUS = [
    "The patient reports chest pain radiating to the left arm; refer to cardiology immediately.",
    "Metformin is indicated for type 2 diabetes. Amoxicillin treats bacterial infections.",
    "Severity: mild, moderate, severe. Fever of 39.5 C for 3 days with a dry cough.",
    "Le patient présente une fièvre élevée et des céphalées. Ça va mieux après le traitement.",
    "Der Patient hat Schmerzen im Rücken; die Übelkeit ist verschwunden.",
    "患者有发烧和咳嗽。医生建议休息和多喝水。",
    "体温正常，血压 120/80。",
    "Great news 🙂 the scan was clear 🎉 follow-up in 6 weeks.",
    "Dose: 500 mg twice daily, 1000 mg max; call 555-0123 if symptoms persist.",
    "She said: \"I'm fine\", but we'll check again tomorrow. They've been waiting since 08:30.",
    "def dose(weight_kg):\n    return 15 * weight_kg  # mg\n\tindented with a tab\n",
] * 8

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TEXTS = [
    "",
    " ",
    "\n",
    "Hello world",
    "The patient's temperature was 39.5 C; they'll recover.",
    "Café résumé naïve — déjà vu, Übelkeit",
    "Decomposed: e\u0301 and composed: é",
    "患者有发烧和咳嗽。体温正常",
    "emoji 🙂🎉 and unseen 🚑🧬",
    "digits 1234567890 and 3.14159 and 555-0123",
    "  leading spaces",
    "trailing spaces   ",
    "multiple   spaces\tand\t\ttabs\n\nnew lines\r\nend",
    "unseen characters: ЖЖЖ ∑∫ ﬁ ½",
    "I'M SURE IT'S FINE, WE'LL SEE",
    "def dose(weight_kg):\n    return 15 * weight_kg\n",
]


def special_texts(tokens):
    """Texts with the fixture's added tokens inside, at the edges, next to spaces and glued to words."""
    a, b = tokens[0], tokens[-1]
    return [
        f"{a}Hello {b} world{a}",
        f"{a}",
        f"text {a}  {b}text",
        f"x{a}y {b}\n{a}",
    ]


def expected_from_tokenizers(tok, texts):
    cases = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=True).ids
        cases.append({
            "text": text,
            "ids": ids,
            "ids_no_special": tok.encode(text, add_special_tokens=False).ids,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    return cases


def write(out, name, cases):
    (out / name / "expected.json").write_text(json.dumps({"cases": cases}, ensure_ascii=False, indent=1))
    print(f"{name}: {len(cases)} cases")


def train_bpe(tok, vocab_size, special_tokens, byte_level):
    kwargs = {"initial_alphabet": pre_tokenizers.ByteLevel.alphabet()} if byte_level else {}
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False,
                                  **kwargs)
    tok.train_from_iterator(CORPUS, trainer)


def gpt2(out):
    """(a) GPT-2: ByteLevel pre-tokenizer with its regex; an lstrip special and a single_word added token."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    train_bpe(tok, 500, ["<|endoftext|>"], byte_level=True)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    tok.add_tokens([AddedToken("[MED]", single_word=True)])
    save(out, "gpt2", tok, extra_texts=special_texts(["<|endoftext|>", "<mask>"]) +
         ["a <mask> b", "x[MED]y and [MED] z", "a\n  <mask>b"])


def qwen2(out):
    """(c) Qwen2: NFC, Split(regex, Isolated) + ByteLevel(use_regex=false), ChatML specials."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    train_bpe(tok, 600, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], byte_level=True)
    save(out, "qwen2", tok, extra_texts=special_texts(["<|im_start|>", "<|im_end|>"]) +
         ["<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"],
         config={"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": None})


def llama3(out):
    """(d) Llama-3: Split(regex) + ByteLevel, ignore_merges, Sequence[ByteLevel, Template] post-processor."""
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    train_bpe(tok, 600, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"], byte_level=True)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    # A word in the vocabulary that the merges cannot build: only ignore_merges yields it as one token.
    spec = json.loads(tok.to_str())
    spec["model"]["vocab"]["Ġzzqx"] = max(spec["model"]["vocab"].values()) + 1
    for added in spec["added_tokens"]:
        added["id"] = spec["model"]["vocab"][added["content"]]
    tok = Tokenizer.from_str(json.dumps(spec))
    save(out, "llama3", tok, extra_texts=special_texts(["<|begin_of_text|>", "<|eot_id|>"]) + ["say zzqx zzqxzzqx"],
         config={"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})


def metaspace(out):
    """Older SentencePiece-style tokenizer.json: Metaspace pre-tokenizer (split) and Metaspace decoder."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    train_bpe(tok, 400, ["<unk>", "<s>", "</s>"], byte_level=False)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>",
                                                       special_tokens=[("<s>", 1), ("</s>", 2)])
    save(out, "metaspace", tok, extra_texts=special_texts(["<s>", "</s>"]))


def save(out, name, tok, extra_texts, config=None):
    (out / name).mkdir(parents=True, exist_ok=True)
    tok.save(str(out / name / "tokenizer.json"))
    if config is not None:
        (out / name / "tokenizer_config.json").write_text(json.dumps(config))
    reloaded = Tokenizer.from_file(str(out / name / "tokenizer.json"))
    write(out, name, expected_from_tokenizers(reloaded, TEXTS + extra_texts))


def legacy_llama_ids(sp, text):
    """Ids as transformers' slow LlamaTokenizer (legacy=True) gave them, which transformers 5 no longer ships: the
    text split around the special tokens, each other piece encoded by sentencepiece itself (dummy prefix included).
    transformers 5's LlamaTokenizer, converted from the same tokenizer.model, drops leading spaces (' ' encodes to
    '▁' where sentencepiece gives '▁▁'), so sentencepiece is the reference here."""
    specials = {"<s>": sp.bos_id(), "</s>": sp.eos_id(), "<unk>": sp.unk_id()}
    ids = []
    for piece in re.split("(" + "|".join(map(re.escape, specials)) + ")", text):
        if piece in specials:
            ids.append(specials[piece])
        elif piece:
            ids.extend(sp.encode(piece))
    return ids


def sentencepiece_fixtures(out):
    """(e) a SentencePiece BPE tokenizer.model with byte_fallback (Llama-2 trainer settings), and (b) the
    Llama-2 style tokenizer.json transformers converts from it (Prepend/Replace normalizer, ByteFallback)."""
    work = out / "_sentencepiece_training"
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(line.replace("\n", " ") for line in CORPUS) + "\n")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(work / "sp"), model_type="bpe", vocab_size=400,
        character_coverage=1.0, byte_fallback=True, split_digits=True, allow_whitespace_only_pieces=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
    model_file = work / "sp.model"
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    texts = TEXTS + special_texts(["<s>", "</s>"]) + ["<unk> marks unknown", "a<s>b</s>c"]

    # (e) tokenizer.model only, with a config asking for eos as well.
    sp_dir = out / "sentencepiece"
    sp_dir.mkdir(parents=True, exist_ok=True)
    (sp_dir / "tokenizer.model").write_bytes(model_file.read_bytes())
    (sp_dir / "tokenizer_config.json").write_text(json.dumps(
        {"add_bos_token": True, "add_eos_token": True, "bos_token": {"content": "<s>"}, "eos_token": "</s>"}))
    # The decoder transformers' Llama conversion writes into tokenizer.json (fixture (b) below carries it).
    decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                 decoders.Strip(" ", 1, 0)])
    specials = {sp.bos_id(), sp.eos_id(), sp.unk_id()}

    def decode(ids, skip_special):
        return decoder.decode([sp.id_to_piece(i) for i in ids if not (skip_special and i in specials)])
    cases = []
    for text in texts:
        no_special = legacy_llama_ids(sp, text)
        ids = [sp.bos_id()] + no_special + [sp.eos_id()]
        cases.append({"text": text, "ids": ids, "ids_no_special": no_special,
                      "decoded": decode(ids, skip_special=False),
                      "decoded_skip_special": decode(ids, skip_special=True)})
    write(out, "sentencepiece", cases)

    # (b) Llama-2 tokenizer.json as transformers converts it, plus a special and a normalized added token.
    llama2 = LlamaTokenizerFast(vocab_file=str(model_file), from_slow=True, legacy=True)
    llama2.add_special_tokens({"additional_special_tokens": ["<|sep|>"]})
    llama2.add_tokens([AddedToken("hospital", normalized=True, special=False)])
    llama2.save_pretrained(str(out / "llama2"))
    (out / "llama2" / "tokenizer.model").unlink(missing_ok=True)  # tokenizer.json must be what we read
    reloaded = Tokenizer.from_file(str(out / "llama2" / "tokenizer.json"))
    write(out, "llama2", expected_from_tokenizers(
        reloaded, texts + special_texts(["<|sep|>", "</s>"]) + ["the hospital and a hospital", "hospital"]))

    # The non-legacy conversion: no normalizer, Metaspace(prepend_scheme "first", split false).
    first = LlamaTokenizerFast(vocab_file=str(model_file), from_slow=True, legacy=False)
    first.save_pretrained(str(out / "llama2_metaspace_first"))
    (out / "llama2_metaspace_first" / "tokenizer.model").unlink(missing_ok=True)
    reloaded = Tokenizer.from_file(str(out / "llama2_metaspace_first" / "tokenizer.json"))
    write(out, "llama2_metaspace_first", expected_from_tokenizers(reloaded, texts))


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: make_fixtures.py <out_dir>")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    gpt2(out)
    qwen2(out)
    llama3(out)
    metaspace(out)
    sentencepiece_fixtures(out)


if __name__ == "__main__":
    main()
