#!/usr/bin/env python3
"""Writes the golden cases under tests/src/test/resources/golden/.

  /usr/bin/python3 tests/reference/make_golden.py [--out DIR]

Each case directory gets weights.safetensors (every parameter, config in __metadata__),
inputs.safetensors (imgs, noise; mask_ratio in __metadata__) and expected.safetensors (exactly
what `mae_reference.py forward --grads` writes for those two files). Deterministic: fixed seeds.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from mae_reference import FROZEN, MAE, MAEConfig, compute_len_keep, run_forward, sincos_2d  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "src", "test", "resources", "golden"))

# name: (config kwargs, mask_ratio string, N, image distribution, perturbation std, seed)
CASES = [
    ("c1_hd8_m75_normpix",
     dict(img_size=16, patch_size=4, in_chans=1, embed_dim=16, depth=2, num_heads=2,
          decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2, mlp_ratio=4.0,
          norm_pix_loss=True), "0.75", 3, "uniform", 0.05, 101),
    ("c3_hd64_m50_raw",
     dict(img_size=8, patch_size=4, in_chans=3, embed_dim=64, depth=1, num_heads=1,
          decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=1, mlp_ratio=1.0,
          norm_pix_loss=False), "0.5", 2, "normal", 0.05, 202),
    ("c3_hd8_m75_normpix",
     dict(img_size=12, patch_size=4, in_chans=3, embed_dim=24, depth=2, num_heads=3,
          decoder_embed_dim=16, decoder_depth=2, decoder_num_heads=2, mlp_ratio=4.0,
          norm_pix_loss=True), "0.75", 3, "normal", 0.05, 303),
    ("c1_hd8_m50_raw_fmnistlike",
     dict(img_size=28, patch_size=4, in_chans=1, embed_dim=24, depth=1, num_heads=3,
          decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2, mlp_ratio=4.0,
          norm_pix_loss=False), "0.5", 2, "uniform", 0.05, 404),
    ("c3_hd64_m75_normpix",
     dict(img_size=16, patch_size=8, in_chans=3, embed_dim=128, depth=1, num_heads=2,
          decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=1, mlp_ratio=1.0,
          norm_pix_loss=True), "0.75", 2, "normal", 0.05, 505),
]


def golden_weights(cfg, seed, std):
    """Spec init (seed), then a seeded normal(std) perturbation on EVERY trainable parameter
    (biases, LayerNorm weights, tokens included). Pos embeds stay exactly sin-cos."""
    model = MAE(cfg)
    model.init_weights(seed)
    g = torch.Generator().manual_seed(seed + 7919)
    with torch.no_grad():
        for name, prm in model.named_parameters():
            if name in FROZEN:
                continue
            prm.add_(torch.randn(prm.shape, generator=g, dtype=prm.dtype) * std)
    return model.state_arrays(np.float32)


def golden_inputs(cfg, n, dist, seed):
    rng = np.random.default_rng(seed)
    shape = (n, cfg.in_chans, cfg.img_size, cfg.img_size)
    if dist == "uniform":
        imgs = rng.random(shape, dtype=np.float32)
    else:
        imgs = rng.standard_normal(shape, dtype=np.float32)
    while True:
        noise = rng.random((n, cfg.num_patches), dtype=np.float32)
        # distinct values per row, so the argsort is unambiguous for any sort algorithm
        if all(len(np.unique(r)) == r.size for r in noise):
            break
    return imgs, noise


def make_case(out_dir, name, cfg_kw, mask_ratio, n, dist, std, seed):
    cfg = MAEConfig(**cfg_kw)
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    w = golden_weights(cfg, seed, std)
    imgs, noise = golden_inputs(cfg, n, dist, seed + 1)
    wp, ip, ep = (os.path.join(d, f) for f in
                  ("weights.safetensors", "inputs.safetensors", "expected.safetensors"))
    safetensors_io.write(wp, w, cfg.to_metadata())
    safetensors_io.write(ip, {"imgs": imgs, "noise": noise}, {"mask_ratio": mask_ratio})
    out = run_forward(wp, ip, ep, grads=True)
    # every gradient must matter: no all-zero gradient tensor
    zero = [k for k, v in out.items() if k.startswith("grad.") and not np.any(v)]
    if zero:
        raise RuntimeError(f"{name}: all-zero gradients {zero}")
    size = sum(os.path.getsize(p) for p in (wp, ip, ep))
    L = cfg.num_patches
    print(f"{name}: N={n} C={cfg.in_chans} img={cfg.img_size} p={cfg.patch_size} L={L} "
          f"len_keep={compute_len_keep(L, float(mask_ratio))} D={cfg.embed_dim} "
          f"Dd={cfg.decoder_embed_dim} loss={float(out['loss']):.6g} bytes={size}")
    return size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    total = 0
    for case in CASES:
        total += make_case(a.out, *case)
    pe = os.path.join(a.out, "posembed_2d_d16_g4.safetensors")
    safetensors_io.write(pe, {"pos_embed": sincos_2d(16, 4)[None].astype(np.float32)},
                         {"embed_dim": "16", "grid_size": "4", "cls_token": "true"})
    total += os.path.getsize(pe)
    print(f"total bytes {total}")


if __name__ == "__main__":
    main()
