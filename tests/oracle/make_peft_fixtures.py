"""Creates PEFT adapters with the pinned `peft` on the model fixtures, and their reference logits.

Run with the pinned .venv after make_model_fixtures.py:  make_peft_fixtures.py <model_fixtures> <out>
For every adapter it writes <out>/<name>/ with
  adapter_config.json + adapter_model.safetensors  as `PeftModel.save_pretrained` writes them
  reference.safetensors                            input_ids (B,T), attention_mask (B,T), logits (B,T,V) of the
                                                   base model with the adapter, on the padded batch of the model
                                                   fixtures (eager attention)
  reference.json                                   {"base": <model fixture dir>, "peft_type": ...}
LoRA: lora_A and lora_B are both drawn at random (PEFT starts B at zero, which would make the adapter a no-op
and the test prove nothing); positions cumsum(mask)-1.
PREFIX_TUNING: the prompt encoder (embedding, and the projection MLP when prefix_projection) is drawn at random;
save_pretrained writes its output as "prompt_embeddings" (P, layers*2*token_dim) and the config with
inference_mode true. PEFT drops position_ids for prompt learning: the model numbers the tokens P..P+T-1 (also in
a left-padded row), so none are passed. PEFT 0.10 is not GQA-aware for prefixes: bases without GQA only.
The script fails if an adapter does not move the logits on real tokens, or if the saved adapter, loaded back
with PeftModel.from_pretrained, does not reproduce them.
"""
import json
import sys
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, PrefixTuningConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_model_fixtures import padded_batch  # noqa: E402  (same batch shape and positions as the model oracle)

LLAMA_ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# name -> (base model fixture, peft config); the C++ side dispatches on reference.json's peft_type.
ADAPTERS = {
    "lora_llama_gqa": ("llama_gqa", LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=LLAMA_ALL,
                                               task_type="CAUSAL_LM")),
    # A regex string is matched against full module names (re.fullmatch), and rsLoRA scales by alpha/sqrt(r).
    "lora_llama_gqa_rslora_regex": ("llama_gqa", LoraConfig(r=4, lora_alpha=8, use_rslora=True,
                                                            target_modules=r".*\.(q_proj|v_proj|down_proj)",
                                                            task_type="CAUSAL_LM")),
    # GPT-2 Conv1D weights are stored (in, out): fan_in_fan_out=True. "c_proj" matches attn.c_proj and mlp.c_proj.
    "lora_gpt2": ("gpt2", LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn", "c_proj", "c_fc"],
                                     fan_in_fan_out=True, task_type="CAUSAL_LM")),
    "prefix_llama": ("llama_tied_linear_rope", PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5)),
    # encoder_hidden_size differs from token_dim (64) so a transposed projection weight cannot pass.
    "prefix_llama_projection": ("llama_tied_linear_rope",
                                PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5,
                                                   prefix_projection=True, encoder_hidden_size=48)),
    "prefix_gpt2": ("gpt2", PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5)),
}


def randomize_lora(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        lora = [(n, p) for n, p in model.named_parameters() if "lora_A" in n or "lora_B" in n]
        assert lora, "no LoRA parameters"
        for _, p in lora:
            p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def randomize_prefix(model, seed):
    gen = torch.Generator().manual_seed(seed)
    encoder = model.prompt_encoder["default"]
    with torch.no_grad():
        encoder.embedding.weight.copy_(torch.randn(encoder.embedding.weight.shape, generator=gen))
        if encoder.prefix_projection:
            # Larger than nn.Linear's init so both layers and the tanh between them shape the output.
            for p in encoder.transform.parameters():
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))


def lora_logits(model, ids, mask):
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return model(input_ids=ids, attention_mask=mask, position_ids=positions).logits


def prefix_logits(model, ids, mask):
    return model(input_ids=ids, attention_mask=mask).logits


# peft_type -> (randomize the adapter, run the batch through the PeftModel)
METHODS = {"LORA": (randomize_lora, lora_logits), "PREFIX_TUNING": (randomize_prefix, prefix_logits)}


def load_base(base_dir):
    return AutoModelForCausalLM.from_pretrained(base_dir, attn_implementation="eager").eval()


def main(model_fixtures, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for index, (name, (base_name, config)) in enumerate(ADAPTERS.items()):
        base_dir = (Path(model_fixtures) / base_name).resolve()
        peft_type = config.peft_type.value
        randomize, run = METHODS[peft_type]
        model = get_peft_model(load_base(base_dir), config).eval()
        randomize(model, seed=300 + index)
        target = out / name
        # The model card (README.md) needs Jinja2, which the venv lacks (peft goes in with --no-deps); the
        # adapter files are written by save_pretrained as usual.
        model.create_or_update_model_card = lambda output_dir: None
        model.save_pretrained(target, safe_serialization=True)

        gen = torch.Generator().manual_seed(11 + index)
        ids, mask, _ = padded_batch(model.config.vocab_size, gen)
        real = mask.bool().unsqueeze(-1)
        with torch.no_grad():
            logits = run(model, ids, mask)
            with model.disable_adapter():   # the base model alone, positions numbered as the model oracle does
                base_logits = lora_logits(model, ids, mask)
            reloaded = PeftModel.from_pretrained(load_base(base_dir), target).eval()
            reloaded_diff = (run(reloaded, ids, mask) - logits).abs().masked_select(real).max().item()
        moved = (logits - base_logits).abs().masked_select(real).max().item()
        if moved < 0.1:
            sys.exit(f"peft fixture {name}: the adapter moves the logits by only {moved}")
        if reloaded_diff > 1e-5 * max(1.0, logits.abs().max().item()):
            sys.exit(f"peft fixture {name}: the saved adapter, loaded back, is off by {reloaded_diff}")
        save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(), "logits": logits.contiguous()},
                  str(target / "reference.safetensors"))
        (target / "reference.json").write_text(json.dumps({"base": str(base_dir), "peft_type": peft_type}))
        print(f"peft fixture {name}: base {base_name}, logits moved by {moved:.3f}, "
              f"reloaded within {reloaded_diff:.2g}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
