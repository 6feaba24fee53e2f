"""Creates PEFT adapters with the pinned `peft` on the model fixtures, and their reference logits.

Run with the pinned .venv after make_model_fixtures.py:  make_peft_fixtures.py <model_fixtures> <out>
For every adapter it writes <out>/<name>/ with
  adapter_config.json + adapter_model.safetensors  as `PeftModel.save_pretrained` writes them
  reference.safetensors                            input_ids (B,T), attention_mask (B,T), logits (B,T,V) of the
                                                   base model with the adapter, on the padded batch of the model
                                                   fixtures (positions cumsum(mask)-1, eager attention)
  reference.json                                   {"base": <model fixture dir>, "peft_type": ...}
lora_A and lora_B are both drawn at random (PEFT starts B at zero, which would make the adapter a no-op and
the test prove nothing); the script fails if the adapter does not move the logits.
"""
import json
import sys
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_model_fixtures import padded_batch  # noqa: E402  (same batch shape and positions as the model oracle)

LLAMA_ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# name -> (base model fixture, LoraConfig). Add PREFIX_TUNING adapters here (peft.PrefixTuningConfig) once
# SliceGuard's prefix oracle lands; the C++ side dispatches on reference.json's peft_type.
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
}


def randomize_lora(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        lora = [(n, p) for n, p in model.named_parameters() if "lora_A" in n or "lora_B" in n]
        assert lora, "no LoRA parameters"
        for _, p in lora:
            p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def main(model_fixtures, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for index, (name, (base_name, config)) in enumerate(ADAPTERS.items()):
        base_dir = (Path(model_fixtures) / base_name).resolve()
        base = AutoModelForCausalLM.from_pretrained(base_dir, attn_implementation="eager").eval()
        model = get_peft_model(base, config).eval()
        randomize_lora(model, seed=300 + index)
        target = out / name
        # The model card (README.md) needs Jinja2, which the venv lacks (peft goes in with --no-deps); the
        # adapter files are written by save_pretrained as usual.
        model.create_or_update_model_card = lambda output_dir: None
        model.save_pretrained(target, safe_serialization=True)

        gen = torch.Generator().manual_seed(11 + index)
        ids, mask, positions = padded_batch(base.config.vocab_size, gen)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
            with model.disable_adapter():
                base_logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        moved = (logits - base_logits).abs().max().item()
        if moved < 0.1:
            sys.exit(f"peft fixture {name}: the adapter moves the logits by only {moved}")
        save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(), "logits": logits.contiguous()},
                  str(target / "reference.safetensors"))
        (target / "reference.json").write_text(json.dumps({"base": str(base_dir), "peft_type": "LORA"}))
        print(f"peft fixture {name}: base {base_name}, logits moved by {moved:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
