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
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text("\n".join(text))
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
