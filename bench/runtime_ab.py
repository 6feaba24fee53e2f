"""`make bench-ab`: this checkout against an earlier commit's build, on the same machine in one run.

Two measurements, each side a fresh process:
  - local LoRA training through `sliceguard finetune` of each build (r 8 on q/k/v/o, AdamW, batch 16, one epoch of
    the bundled triage data, 2 threads) on one random llama d512 x 8 layers (bench/hf_peft.py's model), in
    alternating pairs; the pair with the median ratio is reported, every pair's ratio beside it;
  - each build's whole `sliceguard_bench` (GEMM peak, model MFU, split and federated ratios), one after the other.
The earlier build lives in build-ab/ (a git worktree of the commit and its own build directory, made with that
commit's own install and build steps); SG_AB_BUILD=DIR uses an existing build of it instead.

Usage: .venv/bin/python bench/runtime_ab.py COMMIT BUILD_DIR [--pairs 3] [--no-bench]   (prints one JSON object)
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hf_peft  # noqa: E402  (the model and the finetune command line are shared with the peft side-by-side)

ROOT = hf_peft.ROOT


def earlier_build(commit):
    """The build directory of `commit`: SG_AB_BUILD, or build-ab/build made from a worktree of it."""
    if os.environ.get("SG_AB_BUILD"):
        return Path(os.environ["SG_AB_BUILD"])
    tree, build = ROOT / "build-ab" / "src", ROOT / "build-ab" / "build"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True)
    subprocess.run(["git", "-C", str(tree), "checkout", "--detach", commit], check=True)   # an earlier AB_COMMIT's
    subprocess.run(["scripts/install_deps.sh"], cwd=tree, check=True, stdout=sys.stderr)
    subprocess.run(["cmake", "-S", str(tree), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=sys.stderr)
    subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count()), "--target", "sliceguard",
                    "sliceguard_bench"], check=True, stdout=sys.stderr)
    return build


def lora_tokens_per_s(binary, model_dir, work):
    summary = hf_peft.run_sliceguard(binary, model_dir, work, None)   # each build with its own wait policy
    return summary["tokens"] / summary["seconds"], summary


def whole_bench(build):
    out = subprocess.run([str(build / "bench" / "sliceguard_bench")], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("build", type=Path)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--no-bench", action="store_true", help="only the finetune pairs")
    args = parser.parse_args()
    builds = {"earlier": earlier_build(args.commit), "this": args.build.resolve()}
    binaries = {side: build / "src" / "cli" / "sliceguard" for side, build in builds.items()}
    work = args.build / "bench-ab"
    work.mkdir(parents=True, exist_ok=True)
    model_dir = work / "llama_d512"
    hf_peft.make_model(model_dir)

    pairs = []
    for pair in range(args.pairs):
        order = ["earlier", "this"] if pair % 2 == 0 else ["this", "earlier"]
        result = {side: lora_tokens_per_s(binaries[side], model_dir, work / side)[0] for side in order}
        result["ratio"] = result["this"] / result["earlier"]
        pairs.append(result)
    median = sorted(pairs, key=lambda p: p["ratio"])[len(pairs) // 2]
    report = {
        "commit": args.commit,
        "finetune_lora": {"model": "random llama d512 x 8 layers, FFN 1376", "settings": hf_peft.SETTINGS,
                          "targets": hf_peft.TARGETS, "threads": hf_peft.THREADS,
                          "earlier_tokens_per_s": median["earlier"], "this_tokens_per_s": median["this"],
                          "this_over_earlier": median["ratio"], "pair_ratios": [p["ratio"] for p in pairs]},
    }
    if not args.no_bench:
        report["bench"] = {side: whole_bench(build) for side, build in builds.items()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
