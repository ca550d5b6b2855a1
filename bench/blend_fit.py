"""The blender's fit time against its members' fits, on ordered data.

Runs `curio eval --protocol leave-last-out` on a `user item` file in time order (by
default Amazon Video Games as preprocessed for SASRec) with the blend and each of its
members, several times, and prints per run and as medians: the members' fit seconds
(summed), the blend's fit seconds, their ratio, the blend's own work (its fit less the
two fits of its members inside it: steadier than the ratio, whose members' fits vary by
a second from run to run), its stages and NDCG@10. Pass
several binaries (`--curio A --curio B`) to compare a baseline with a change: their runs
alternate, so both see the same machine.

    python3 bench/blend_fit.py --runs 3 --curio target/release/curio

The members' parameters are the Games-tuned ones of docs/benchmarks.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import tempfile

MEMBERS = ["popularity", "item-knn", "user-knn", "als", "session-knn"]
PARAMS = """[blend]
members = ["popularity", "item-knn", "user-knn", "als", "session-knn"]
[item-knn]
bm25 = true
bm25_k1 = 0.756
bm25_b = 0.139
neighbours = 11
shrinkage = 107.0
[user-knn]
neighbours = 153
shrinkage = 98.8
[als]
factors = 128
regularization = 1.58
alpha = 26.3
"""


def run(curio, data, params, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    models = ",".join(MEMBERS + ["blend"])
    out = subprocess.run(
        [curio, "eval", "--data", data, "--protocol", "leave-last-out",
         "--params", params, "--models", models],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    fits, ndcg = {}, {}
    for line in out.splitlines():
        cells = line.split()
        if len(cells) >= 3 and cells[0] in MEMBERS + ["blend"]:
            try:
                fits[cells[0]], ndcg[cells[0]] = float(cells[1]), float(cells[2])
            except ValueError:
                pass
    stages = re.search(r"^blend fit: (.*)$", out, re.M)
    missing = [m for m in MEMBERS + ["blend"] if m not in fits]
    if missing:
        raise SystemExit(f"{curio}: no fit time for {missing} in:\n{out}")
    members = sum(fits[m] for m in MEMBERS)
    # The blend's own work: its fit less the two fits of its members inside it.
    line = stages.group(1) if stages else ""
    inside = sum(float(v) for v in re.findall(r"members' fits ([0-9.]+) s", line))
    return {
        "overhead": fits["blend"] - inside,
        "members": members,
        "blend": fits["blend"],
        "ratio": fits["blend"] / members,
        "ndcg": ndcg["blend"],
        "stages": line,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curio", action="append", help="binary (repeat to compare)")
    parser.add_argument("--data", default="../shared/datasets/amazon-games/Video.txt")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    binaries = args.curio or ["target/release/curio"]
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(PARAMS)
        params = f.name
    results = {b: [] for b in binaries}
    try:
        for r in range(args.runs):
            for b in binaries:
                res = run(b, args.data, params, args.threads)
                results[b].append(res)
                print(f"run {r + 1} {b}: members {res['members']:.2f} s, blend "
                      f"{res['blend']:.2f} s, {res['ratio']:.2f}x, own work "
                      f"{res['overhead']:.2f} s, NDCG@10 "
                      f"{res['ndcg']:.4f}; {res['stages']}", flush=True)
    finally:
        os.unlink(params)
    print()
    print("| binary | members' fits s | blend fit s | ratio (median of the runs') | blend's own work s | NDCG@10 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for b, rs in results.items():
        med = lambda key: statistics.median(r[key] for r in rs)
        print(f"| {b} | {med('members'):.2f} | {med('blend'):.2f} | "
              f"{med('ratio'):.2f}x | {med('overhead'):.2f} | {med('ndcg'):.4f} |")
    print(f"medians of {args.runs} runs, {args.threads} threads")


if __name__ == "__main__":
    main()
