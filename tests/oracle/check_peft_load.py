"""Loads an adapter saved by SliceGuard with the pinned `peft` and checks it reproduces SliceGuard's logits.

  check_peft_load.py <base model dir> <adapter dir> <our logits .safetensors>

The logits file holds input_ids (B,T), attention_mask (B,T) and logits (B,T,V) computed by SliceGuard with the
adapter. Exit status 0 when `peft.PeftModel.from_pretrained` loads every tensor of the adapter file into the model
and its logits match on real tokens within 1e-4; otherwise non-zero with a one-line reason on stderr.
"""
import sys

import torch
from peft import PeftModel
from peft.utils import get_peft_model_state_dict
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

TOLERANCE = 1e-4


def fail(message):
    print(f"check_peft_load: {message}", file=sys.stderr)
    sys.exit(1)


def lora_logits(model, ids, mask):
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return model(input_ids=ids, attention_mask=mask, position_ids=positions).logits


def prefix_logits(model, ids, mask):
    # PEFT drops position_ids for prompt learning: the model numbers the tokens P..P+T-1 after the prefix.
    return model(input_ids=ids, attention_mask=mask).logits


# peft_type -> how to run the batch through the PeftModel.
LOGITS = {"LORA": lora_logits, "PREFIX_TUNING": prefix_logits}


def check_prefix_loaded(model, saved):
    # A prefix adapter loads in inference mode: the encoder is a bare embedding holding the saved encoder
    # output, which get_prompt uses as the KV cache.
    config = model.peft_config["default"]
    if not config.inference_mode:
        fail("the prefix adapter did not load in inference mode")
    weight = model.prompt_encoder["default"].embedding.weight
    if not torch.equal(weight, saved["prompt_embeddings"]):
        fail("the prompt encoder's embedding is not the file's prompt_embeddings")


def main(base_dir, adapter_dir, ours_path):
    base = AutoModelForCausalLM.from_pretrained(base_dir, attn_implementation="eager").eval()
    try:
        model = PeftModel.from_pretrained(base, adapter_dir).eval()
    except Exception as e:  # noqa: BLE001  (any loading failure is the finding)
        fail(f"PeftModel.from_pretrained({adapter_dir}) failed: {type(e).__name__}: {e}")

    # from_pretrained loads non-strictly: a misnamed tensor is silently left at its init. Require that every
    # tensor in the file reached the model, and that the model has no adapter tensor the file lacks.
    saved = load_file(f"{adapter_dir}/adapter_model.safetensors")
    loaded = get_peft_model_state_dict(model)
    if set(saved) != set(loaded):
        fail(f"tensor names differ: only in file {sorted(set(saved) - set(loaded))[:4]}, "
             f"only in model {sorted(set(loaded) - set(saved))[:4]}")
    for name, t in saved.items():
        if not torch.equal(t, loaded[name]):
            fail(f"tensor {name} did not load as saved")

    peft_type = model.peft_config["default"].peft_type.value
    if peft_type == "PREFIX_TUNING":
        check_prefix_loaded(model, saved)
    if peft_type not in LOGITS:
        fail(f"no logits check for peft_type {peft_type} yet")
    ours = load_file(ours_path)
    ids, mask = ours["input_ids"].long(), ours["attention_mask"].long()
    with torch.no_grad():
        logits = LOGITS[peft_type](model, ids, mask)
        with model.disable_adapter():
            base_logits = LOGITS[peft_type](model, ids, mask)
    real = mask.bool().unsqueeze(-1).expand_as(logits)
    if (logits - base_logits).abs()[real].max().item() < 1e-3:
        fail("the adapter does not change the logits: the check would prove nothing")
    if ours["logits"].shape != logits.shape:
        fail(f"logits shape {tuple(ours['logits'].shape)}, peft gives {tuple(logits.shape)}")
    diff = (ours["logits"] - logits).abs()[real].max().item()
    if diff > TOLERANCE:
        fail(f"max |logits - peft logits| on real tokens = {diff:.3g} > {TOLERANCE}")
    print(f"check_peft_load: {peft_type} adapter loads in peft, max logits diff {diff:.3g}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
