"""Creates tiny random Hugging Face checkpoints and their reference outputs for the C++ oracle tests.

Run with the pinned .venv (scripts/make_venv.sh). For every family it writes <out>/<name>/ with the
checkpoint saved by `save_pretrained` (safetensors) and
  reference.safetensors : input_ids (B,T), attention_mask (B,T), logits (B,T,V) of a padded batch, and
                          logits_bf16 (B,T,V): the same batch with the model converted to bfloat16
  reference.json        : greedy generations {prompt, new_tokens}
Weights are drawn larger than the default init (and biases/norms perturbed) so every term matters.
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (AutoModelForCausalLM, GPT2Config, LlamaConfig, MistralConfig, PreTrainedTokenizerFast,
                          Qwen2Config)

CORPUS = [
    "The patient reports chest pain radiating to the left arm; refer to cardiology.",
    "Metformin is indicated for type 2 diabetes. Amoxicillin treats bacterial infections.",
    "Severity: mild, moderate, severe. Fever of 39.5 C for 3 days with cough.",
    "Le patient présente une fièvre élevée. 患者有发烧和咳嗽。 🙂 Take 2 tablets daily.",
] * 20


def tiny_tokenizer(vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")


def configs(vocab):
    common = dict(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                  num_attention_heads=4, max_position_embeddings=128, bos_token_id=0, eos_token_id=0)
    return {
        "llama_gqa": LlamaConfig(num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=500000.0,
                                 tie_word_embeddings=False, **common),
        "llama_tied_linear_rope": LlamaConfig(num_key_value_heads=4, tie_word_embeddings=True,
                                              rope_scaling={"type": "linear", "factor": 2.0}, **common),
        "qwen2_bias": Qwen2Config(num_key_value_heads=2, tie_word_embeddings=False, **common),
        "mistral_window": MistralConfig(num_key_value_heads=2, sliding_window=4, tie_word_embeddings=False,
                                        **common),
        "gpt2": GPT2Config(vocab_size=vocab, n_embd=64, n_layer=3, n_head=4, n_positions=128,
                           bos_token_id=0, eos_token_id=0),
    }


def randomize(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "norm" in name or "ln_" in name:
                p.copy_((1.0 + 0.2 * noise) if name.endswith("weight") else 0.1 * noise)
            else:
                p.copy_(0.15 * noise)


def padded_batch(vocab, gen):
    ids = torch.randint(1, vocab, (3, 9), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, :3] = 0    # left padded
    mask[2, 6:] = 0    # right padded
    ids = ids.masked_fill(mask == 0, 0)
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return ids, mask, positions


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(320)
    vocab = len(tokenizer)
    for index, (name, config) in enumerate(configs(vocab).items()):
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
        randomize(model, seed=100 + index)
        target = out / name
        # One sharded checkpoint exercises model.safetensors.index.json.
        model.save_pretrained(target, safe_serialization=True,
                              max_shard_size="100KB" if name == "llama_gqa" else "10GB")
        tokenizer.save_pretrained(target)

        gen = torch.Generator().manual_seed(7 + index)
        ids, mask, positions = padded_batch(vocab, gen)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits

        generations = []
        for prompt_text in ["The patient reports", "Metformin is", "患者有"]:
            prompt = tokenizer(prompt_text, return_tensors="pt").input_ids
            with torch.no_grad():
                full = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12,
                                      do_sample=False, eos_token_id=config.eos_token_id, pad_token_id=0)
            generations.append({"prompt": prompt[0].tolist(), "new_tokens": full[0, prompt.shape[1]:].tolist()})
        (target / "reference.json").write_text(json.dumps({"generations": generations}, indent=1))

        # The same batch with the model in bf16 (last: converting back would not restore the fp32 weights).
        with torch.no_grad():
            logits_bf16 = model.to(torch.bfloat16)(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(), "logits": logits.contiguous(),
                   "logits_bf16": logits_bf16.float().contiguous()}, str(target / "reference.safetensors"))
        print(f"oracle fixture {name}: vocab {vocab}, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main(sys.argv[1])
