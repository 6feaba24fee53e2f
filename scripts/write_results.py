"""Formats the measurements of scripts/results.sh into docs/RESULTS.md (numbers are copied, never typed)."""
import json
import platform
import sys
from pathlib import Path

TASKS = ["triage", "drug_indication", "severity", "disease_extraction", "clinical_qa"]
METHODS = ["lora", "ptuning", "spf", "spf+lora"]
NAMES = {"zero-shot": "zero-shot base", "lora": "LoRA", "ptuning": "P-tuning v2", "spf": "SPF", "spf+lora": "SPF+LoRA"}


def load(path):
    return json.loads(Path(path).read_text())


def main(out_dir, target, seed):
    out = Path(out_dir)
    rows = []
    header = "| method | " + " | ".join(TASKS) + " | trainable params | wall time (s, all tasks) |"
    rows.append(header)
    rows.append("|" + "---|" * (len(TASKS) + 3))
    for method in ["zero-shot"] + METHODS:
        scores, params, wall = [], "0", 0.0
        for task in TASKS:
            result = load(out / f"{task}.{method}.eval.json")["results"][0]
            scores.append(f"{result['score']:.3f}")
            if method != "zero-shot":
                params = str(load(out / f"{task}.{method}" / "train_summary.json")["trainable_parameters"])
                wall += load(out / f"{task}.{method}.run.json")["wall_s"]
        rows.append(f"| {NAMES[method]} | " + " | ".join(scores) + f" | {params} | {wall:.0f} |")
    commands = sorted({load(out / f"triage.{m}.run.json")["command"].replace("triage", "TASK") for m in METHODS})
    text = [
        "# Results",
        "",
        "Produced by `scripts/results.sh` (which calls `scripts/write_results.py`); every number below is read from",
        "the files that run wrote under build/results. Model: `models/sliceguard-med-tiny` (3.7M parameters, made by",
        "`scripts/make_base_model.sh`). Data: `data/medical/<task>/{train,test}.jsonl` (`sliceguard data medical --seed 0`).",
        f"Seed {seed}. Machine: {platform.machine()}, 2 cores, CPU only.",
        "",
        "Metric: accuracy for triage, drug_indication and severity (each label scored by log-likelihood);",
        "exact match of the greedy generation for disease_extraction and clinical_qa. Test split, 200 examples per task.",
        "",
        "## Local fine-tuning",
        "",
        *rows,
        "",
        "Commands (TASK = each task):",
        "",
        *[f"    {c}" for c in commands],
        "",
    ]
    text += split_section(out)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text("\n".join(text))
    print(f"wrote {target}")


def split_section(out):
    """Method 2 next to its local baseline, from scripts/results_split.sh (absent until that has run)."""
    split = out / "split"
    if not all((split / f"{t}.split.json").exists() for t in TASKS):
        return []
    cut = load(split / "plan.json")["cut_layer"]
    full = [load(out / f"{t}.spf+lora.eval.json")["results"][0]["score"] for t in TASKS]
    local = [load(split / f"{t}.local.eval.json")["results"][0]["score"] for t in TASKS]
    remote = [load(split / f"{t}.split.json")["eval"][0]["score"] for t in TASKS]
    deltas = []
    for t in TASKS:
        a = load(split / f"{t}.local" / "train_summary.json")["losses"]
        b = load(split / f"{t}.split.json")["losses"]
        assert len(a) == len(b), f"{t}: {len(a)} local steps, {len(b)} split steps"
        deltas.append(max(abs(x - y) for x, y in zip(a, b)))
    steps = [len(load(split / f"{t}.split.json")["losses"]) for t in TASKS]
    fmt = lambda xs: " | ".join(f"{x:.3f}" for x in xs)
    return [
        "## Split fine-tuning (Method 2)",
        "",
        f"Produced by `scripts/results_split.sh`. Cut at layer k = {cut} of 4: each client runs the embedding and",
        f"layers [0, {cut}); the server enclave (`sim` backend: NOT a security boundary) holds layers [{cut}, 4), the",
        "head and every trainable parameter, trained with SPF+LoRA (density 0.1, r 8, alpha 16, lr 3e-3, warmup 10,",
        "3 epochs, batch 16, seed 0). One client with the whole training split, over gRPC on loopback; scored",
        "through the split model (front on the client, the rest in the enclave).",
        "",
        "| SPF+LoRA | " + " | ".join(TASKS) + " |",
        "|" + "---|" * (len(TASKS) + 1),
        "| local, every layer | " + fmt(full) + " |",
        f"| local, layers [{cut}, 4) (the split baseline) | " + fmt(local) + " |",
        f"| split, layers [{cut}, 4) in the enclave | " + fmt(remote) + " |",
        "| max abs loss difference, split vs local, over all steps | " + " | ".join(f"{d:.1e}" for d in deltas) + " |",
        "| optimiser steps | " + " | ".join(str(n) for n in steps) + " |",
        "",
        "Split training follows the local loss trajectory to floating-point noise, so its accuracy equals the",
        "local baseline's with the same trainable layers; training only the latter layers costs accuracy against",
        "adapting every layer on this 4-layer model.",
        "",
    ]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
