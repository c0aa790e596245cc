#!/usr/bin/env python3
"""Shares of JFR execution samples by what the engine was doing (kernels, loading, pictures): python3 bench/jfr_categories.py FILE.jfr"""
import re, sys, collections, subprocess
txt = subprocess.run(["jfr", "print", "--stack-depth", "64", "--events", "jdk.ExecutionSample", sys.argv[1]], capture_output=True, text=True).stdout
cats = collections.Counter()
for e in txt.split("jdk.ExecutionSample")[1:]:
    frames = re.findall(r"^\s+([\w.$<>]+)\(", e, re.M)
    if not frames: continue
    s = " ".join(frames)
    if "TorchCheckpoint" in s or "StoredZip" in s or "Unpickler" in s or "Safetensors.read" in s: c = "load: read the .pth"
    elif "WeightFiles" in s or "Weights.assign" in s or "forLoading" in s: c = "load: map and assign"
    elif "mae.kernels.Gemm" in s: c = "GEMM (linear layers, patch embedding)"
    elif "mae.kernels.Attention" in s or "AttentionMaps" in s: c = "attention"
    elif "Gelu" in s: c = "GELU"
    elif "LayerNorm" in s: c = "layer norm"
    elif "mae.viz" in s or "Figures" in s or "Report" in s or "Png" in s or "ImageGrid" in s or "javax.imageio" in s or "java.awt" in s or "sun.awt" in s: c = "pictures and report"
    elif "ImageFolder" in s or "Preprocess" in s or "Resample" in s: c = "image decode and crop"
    elif "mae.kernels" in s or "mae.tensor" in s: c = "other tensor ops (copies, adds, gathers)"
    else: c = "other (JVM, startup)"
    cats[c] += 1
n = sum(cats.values())
for k, v in cats.most_common(): print(f"  {100*v/n:5.1f}%  {k}")
print(f"  ({n} samples)")
