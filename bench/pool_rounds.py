#!/usr/bin/python3
"""Pools the alternating rounds of several bench/compare_torch.py results files into one verdict per figure.

  /usr/bin/python3 bench/pool_rounds.py bench/results/A.md bench/results/B.md ... [--out FILE]

One compare_torch run gives 3-5 rounds per figure, and on a noisy machine one round of either side can read 50%
low, so a 5% question (is SGEMM 1024 at OpenBLAS or not?) stays open after one run. Runs of the same build on the
same machine can be pooled: this reads each file's rounds (the SGEMM table's "rounds: ours / PyTorch" column, the
step's or forward's "Each round" line) and the peak that run measured, and prints, per figure, the number of rounds,
the medians of ours and of PyTorch over all of them, their ratio, the median of the per-round ratios (each round
is PyTorch then ours, back to back), how many rounds ours was ahead, and ours as % of its run's peak and of the
highest peak any of the runs read (per round, then the median: one run's peak reading can come out low, 199.5
against 227.4 GFLOP/s an hour apart on the Zen 4 VM, below what that run's own GEMMs reached). It refuses files from different machines (their "- cpu:" lines must agree); it does not know
builds, so give it files whose kernels are the same (the notes at the top of each file say which build ran).
Steps and forward passes are compared against the faster PyTorch variant of each round; their % of peak uses the
GFLOP per image the file states (forward) or its table implies (a step: ours GFLOP/s over ours images/s).
"""
import argparse
import re
import statistics
import sys


def parse(path):
    text = open(path).read()
    cpu = re.search(r"^- cpu: (.*)$", text, re.M)
    peak = re.search(r"measured ([0-9.]+) GFLOP/s with `bin/mae bench peak`", text)
    if not cpu or not peak:
        sys.exit(f"{path}: not a compare_torch.py results file (no '- cpu:' line or no measured peak)")
    figs = {}
    for m in re.finditer(r"^\| (\d+x\d+x\d+) \|.*\| ([0-9. n/a]+) / ([0-9. ]+) \|$", text, re.M):
        figs["SGEMM " + m.group(1)] = rounds(path, m.group(2), m.group(3))
    step = re.search(r"^## Training step, (\S+), batch (\d+)", text, re.M)
    line = re.search(r"^Each round \(images/s, PyTorch reference / fused / ours\): (.*)\.$", text, re.M)
    if step and line:
        for part in line.group(1).split("; "):
            mask, triples = part.split(": ", 1)
            r = [[float(x) for x in t.split(" / ")] for t in triples.split(", ")]
            key = f"step {step.group(1)} batch {step.group(2)} {mask}"
            figs[key] = ([o for _, _, o in r], [max(a, b) for a, b, _ in r])
            gf = re.search(r"^\| " + re.escape(mask.split()[1]) + r" \(.*?\| ([0-9.]+) \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+) \(", text, re.M)
            if gf:
                figs[key] += (float(gf.group(2)) / float(gf.group(1)),)
    fwd = re.search(r"^## Encoder forward, (\S+), batch (\d+)", text, re.M)
    line = re.search(r"^Each round: (.*) images/s\.$", text, re.M)
    if fwd and line:
        r = [re.search(r"reference ([0-9.]+), fused ([0-9.]+), ours ([0-9.]+)", p).groups() for p in line.group(1).split("; ")]
        r = [[float(x) for x in t] for t in r]
        key = f"forward {fwd.group(1)} batch {fwd.group(2)}"
        figs[key] = ([o for _, _, o in r], [max(a, b) for a, b, _ in r])
        gf = re.search(r"\(([0-9.]+) GFLOP per image\)", text)
        if gf:
            figs[key] += (float(gf.group(1)),)
    if not figs:
        sys.exit(f"{path}: no rounds found (a file from before compare_torch.py measured in rounds?)")
    return cpu.group(1), float(peak.group(1)), figs


def rounds(path, ours, torch):
    o = [None if x == "n/a" else float(x) for x in ours.split()]
    t = [float(x) for x in torch.split()]
    if len(o) != len(t):
        sys.exit(f"{path}: {len(o)} rounds of ours against {len(t)} of PyTorch")
    return (o, t)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+")
    p.add_argument("--out", help="also write the table to this file")
    a = p.parse_args()
    parsed = [(f,) + parse(f) for f in a.files]
    top = max(p for _, _, p, _ in parsed)              # a run's peak can read low (a slow phase while it ran)
    pooled, cpus, used = {}, set(), []
    for f, cpu, peak, figs in parsed:
        cpus.add(cpu)
        used.append(f"{f} (peak {peak:.1f})")
        for key, v in figs.items():
            d = pooled.setdefault(key, {"ours": [], "torch": [], "pct": [], "top": [], "files": 0})
            d["files"] += 1
            gpi = v[2] if len(v) > 2 else None            # GFLOP per image (steps, forward); SGEMM figures are GFLOP/s
            for o, t in zip(v[0], v[1]):
                if o is None:
                    continue
                d["ours"].append(o)
                d["torch"].append(t)
                gf = o if key.startswith("SGEMM") else None if gpi is None else o * gpi
                if gf is not None:
                    d["pct"].append(100 * gf / peak)
                    d["top"].append(100 * gf / top)
    if len(cpus) > 1:
        sys.exit("files from different machines, not pooled:\n  " + "\n  ".join(sorted(cpus)))
    L = [f"Pooled rounds of {len(a.files)} compare_torch.py runs on {cpus.pop()}:", ""]
    L += [f"- {u}" for u in used]
    L += ["", f"| figure | runs | rounds | ours (median) | PyTorch (median) | ratio of medians | median per-round ratio | rounds ours ahead "
          f"| ours % of its run's peak (median) | ours % of the highest peak read, {top:.1f} (median) |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, d in pooled.items():
        o, t = d["ours"], d["torch"]
        per = [x / y for x, y in zip(o, t)]
        pct = f"{statistics.median(d['pct']):.1f}% | {statistics.median(d['top']):.1f}%" if d["pct"] else "n/a | n/a"
        L.append(f"| {key} | {d['files']} | {len(o)} | {statistics.median(o):.2f} | {statistics.median(t):.2f} | "
                 f"{statistics.median(o) / statistics.median(t):.3f} | {statistics.median(per):.3f} | "
                 f"{sum(1 for r in per if r >= 1)} of {len(per)} | {pct} |")
    out = "\n".join(L) + "\n"
    print(out, end="")
    if a.out:
        open(a.out, "w").write(out)


if __name__ == "__main__":
    main()
