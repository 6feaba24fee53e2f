"""`make bench-hf`: `sliceguard finetune` against Hugging Face transformers + peft on the same torch, in one run.

Both train LoRA (r 8, alpha 16, no dropout, on q/k/v/o) with AdamW and the same cosine schedule and gradient
clipping, on the same random llama (d 512, 8 layers, 8 heads, FFN 1376; vocabulary and tokenizer of the bundled
model) and on exactly the same micro-batches: `sliceguard finetune --save-batches` writes the batches it trains on
and the peft run reads them. Each side is a fresh process with 2 compute threads and the same OMP_WAIT_POLICY: by
default none (libgomp's default, as a user runs either); --wait-policy sets one for both. The pairs alternate which
side goes first, and the pair with the median ratio is reported with every pair's ratio beside it.
Timed: the training loop of each side (its own clock, model loading excluded). The token counts must be equal and
the losses at step 1 must agree (the LoRA B matrices start at zero, so step 1 is the base model's loss on the same
batch); the run fails otherwise. Later losses differ by the LoRA A init, which each side draws its own way.

Usage: .venv/bin/python bench/hf_peft.py SLICEGUARD_BINARY WORK_DIR [--pairs 3] [--wait-policy default|PASSIVE|ACTIVE]
       (prints one JSON object)
       .venv/bin/python bench/hf_peft.py --train-peft MODEL BATCHES SUMMARY   (one peft run; used by the above)
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "models" / "sliceguard-med-tiny"
DATA = ROOT / "data" / "medical" / "triage" / "train.jsonl"
THREADS = 2
SETTINGS = dict(r=8, alpha=16, lr=3e-3, warmup=10, epochs=1, batch_size=16, max_grad_norm=1.0, seed=0)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def make_model(out):
    """A random llama in HF format with the bundled tokenizer (transformers' own init, fp32 safetensors)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    vocab = json.loads((BUNDLED / "config.json").read_text())["vocab_size"]
    config = LlamaConfig(vocab_size=vocab, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                         num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=2048,
                         tie_word_embeddings=False)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    for f in BUNDLED.iterdir():
        if f.name.startswith("tokenizer") or f.name == "special_tokens_map.json":
            shutil.copy(f, out / f.name)


def read_batches(path):
    from safetensors.torch import load_file
    tensors = load_file(str(path))
    keys = sorted({tuple(map(int, re.match(r"epoch(\d+)\.batch(\d+)\.", k).groups())) for k in tensors})
    return [{part: tensors[f"epoch{e}.batch{b}.{part}"] for part in ("input_ids", "attention_mask", "labels")}
            for e, b in keys]


def train_peft(model_dir, batches_path, summary_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, get_cosine_schedule_with_warmup
    torch.set_num_threads(THREADS)
    torch.manual_seed(SETTINGS["seed"])
    batches = read_batches(batches_path)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=SETTINGS["r"], lora_alpha=SETTINGS["alpha"], lora_dropout=0.0,
                                             target_modules=TARGETS, task_type="CAUSAL_LM"))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=SETTINGS["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    schedule = get_cosine_schedule_with_warmup(optimizer, SETTINGS["warmup"], len(batches))
    losses, tokens = [], 0
    start = time.perf_counter()
    for batch in batches:
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, SETTINGS["max_grad_norm"])
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        tokens += int(batch["attention_mask"].sum())
    seconds = time.perf_counter() - start
    Path(summary_path).write_text(json.dumps({"seconds": seconds, "tokens": tokens, "steps": len(batches),
                                              "losses": losses}))


def child_environment(wait_policy):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    return env if wait_policy == "default" else dict(env, OMP_WAIT_POLICY=wait_policy)


def run_sliceguard(binary, model_dir, work, batches_path, wait_policy="default"):
    out = work / "sliceguard_adapter"
    command = [str(binary), "finetune", "--model", str(model_dir), "--data", str(DATA), "--out", str(out),
               "--method", "lora", "--lora-r", str(SETTINGS["r"]), "--lora-alpha", str(SETTINGS["alpha"]),
               "--lora-dropout", "0", "--lora-targets", ",".join(TARGETS), "--lr", str(SETTINGS["lr"]),
               "--warmup", str(SETTINGS["warmup"]), "--epochs", str(SETTINGS["epochs"]),
               "--batch-size", str(SETTINGS["batch_size"]), "--max-grad-norm", str(SETTINGS["max_grad_norm"]),
               "--seed", str(SETTINGS["seed"]), "--threads", str(THREADS)]
    if batches_path is not None:
        command += ["--save-batches", str(batches_path)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=child_environment(wait_policy))
    return json.loads((out / "train_summary.json").read_text())


def run_peft(model_dir, batches_path, work, wait_policy):
    summary = work / "peft_summary.json"
    subprocess.run([sys.executable, __file__, "--train-peft", str(model_dir), str(batches_path), str(summary)],
                   check=True, env=child_environment(wait_policy))
    return json.loads(summary.read_text())


def check_same_work(sg, hf):
    if sg["tokens"] != hf["tokens"] or sg["steps"] != hf["steps"]:
        raise SystemExit(f"not the same batches: sliceguard {sg['steps']} steps / {sg['tokens']} tokens, "
                         f"peft {hf['steps']} / {hf['tokens']}")
    if abs(sg["losses"][0] - hf["losses"][0]) > 1e-3 * abs(hf["losses"][0]):
        raise SystemExit(f"step-1 losses differ: sliceguard {sg['losses'][0]}, peft {hf['losses'][0]}")


def side_by_side(binary, work, pairs, wait_policy):
    work.mkdir(parents=True, exist_ok=True)
    model_dir = work / "llama_d512"
    make_model(model_dir)
    batches_path = work / "batches.safetensors"
    run_sliceguard(binary, model_dir, work, batches_path, wait_policy)   # writes the batches; warms the cache up
    runs = []
    for pair in range(pairs):
        order = ["sliceguard", "peft"] if pair % 2 == 0 else ["peft", "sliceguard"]
        result = {}
        for side in order:
            result[side] = (run_sliceguard(binary, model_dir, work, None, wait_policy) if side == "sliceguard"
                            else run_peft(model_dir, batches_path, work, wait_policy))
        check_same_work(result["sliceguard"], result["peft"])
        result["ratio"] = (result["sliceguard"]["tokens"] / result["sliceguard"]["seconds"]) / (
            result["peft"]["tokens"] / result["peft"]["seconds"])
        runs.append(result)
    median = sorted(runs, key=lambda r: r["ratio"])[len(runs) // 2]
    sg, hf = median["sliceguard"], median["peft"]
    import peft
    import torch
    import transformers
    return {
        "model": "random llama d512 x 8 layers, FFN 1376, vocab of the bundled tokenizer",
        "data": str(DATA.relative_to(ROOT)),
        "settings": dict(SETTINGS, targets=TARGETS, threads=THREADS, omp_wait_policy=wait_policy),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "tokens": sg["tokens"], "steps": sg["steps"],
        "sliceguard_seconds": sg["seconds"], "peft_seconds": hf["seconds"],
        "sliceguard_tokens_per_s": sg["tokens"] / sg["seconds"], "peft_tokens_per_s": hf["tokens"] / hf["seconds"],
        "sliceguard_over_peft": median["ratio"], "pair_ratios": [r["ratio"] for r in runs],
        "loss_step1": {"sliceguard": sg["losses"][0], "peft": hf["losses"][0]},
        "loss_final": {"sliceguard": sg["losses"][-1], "peft": hf["losses"][-1]},
    }


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--train-peft":
        train_peft(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sliceguard")
    parser.add_argument("work", type=Path)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--wait-policy", default="default", choices=["default", "PASSIVE", "ACTIVE"],
                        help="OMP_WAIT_POLICY of both sides (default: unset)")
    args = parser.parse_args()
    print(json.dumps(side_by_side(args.sliceguard, args.work, args.pairs, args.wait_policy), indent=1))


if __name__ == "__main__":
    main()
