#!/usr/bin/env python3
"""Writes the AdamW fixture read by mae.optim.AdamWTest: PyTorch's torch.optim.AdamW over a few steps, with the
parameter groups of MAE's main_pretrain.py (timm's optim_factory.add_weight_decay: no decay on 1-D parameters,
biases and the skip list; everything else decays).

  /usr/bin/python3 tests/reference/make_adamw_fixture.py [--out FILE]

Default FILE: mae/src/test/resources/mae/optim/adamw_torch.safetensors. Deterministic (fixed seed), a few KB.

Parameters: a small set with MAE's names and ranks (4-D patch projection, 3-D cls and mask tokens, 2-D linear
weights, 1-D norm weights and biases). Per step t = 1..STEPS: a gradient grad.<t>.<name> drawn from the seed, the
group learning rate LRS[t - 1] (set on both groups, as engine_pretrain.py's adjust_learning_rate does), one
optimizer.step(); then param.<t>.<name>, exp_avg.<t>.<name> and exp_avg_sq.<t>.<name> are recorded. init.<name> is
the value before the first step. Metadata: lrs (comma separated), beta1, beta2, eps, weight_decay, steps, and
decay (the names in the decaying group, comma separated).

The computation is PyTorch's own float32 AdamW (torch 1.13, foreach off), not a re-implementation: the Java test
compares against it to a few float32 roundings.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "mae", "src", "test", "resources", "mae", "optim",
                                            "adamw_torch.safetensors"))

# name -> shape, in the order MaeModel registers them (a subset, small sizes)
PARAMS = [
    ("cls_token", (1, 1, 6)),
    ("patch_embed.proj.weight", (6, 1, 2, 2)),
    ("patch_embed.proj.bias", (6,)),
    ("blocks.0.norm1.weight", (6,)),
    ("blocks.0.norm1.bias", (6,)),
    ("blocks.0.attn.qkv.weight", (18, 6)),
    ("blocks.0.attn.qkv.bias", (18,)),
    ("norm.weight", (6,)),
    ("decoder_embed.weight", (5, 6)),
    ("mask_token", (1, 1, 5)),
    ("decoder_pred.weight", (4, 5)),
    ("decoder_pred.bias", (4,)),
]
LRS = [1e-2, 2.5e-2, 1.5e-2, 5e-3]
BETA1, BETA2, EPS, WEIGHT_DECAY = 0.9, 0.95, 1e-8, 0.05


def add_weight_decay(named, weight_decay, skip_list=()):
    """timm 0.3.2's optim_factory.add_weight_decay, as MAE's main_pretrain.py calls it."""
    decay, no_decay = [], []
    for name, param in named:
        if not param.requires_grad:
            continue
        if len(param.shape) == 1 or name.endswith(".bias") or name in skip_list:
            no_decay.append(param)
        else:
            decay.append(param)
    return [{"params": no_decay, "weight_decay": 0.}, {"params": decay, "weight_decay": weight_decay}]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    out = ap.parse_args().out

    g = torch.Generator().manual_seed(20261130)
    named = [(n, torch.nn.Parameter(torch.randn(s, generator=g, dtype=torch.float32))) for n, s in PARAMS]
    groups = add_weight_decay(named, WEIGHT_DECAY)
    decay_ids = {id(p) for p in groups[1]["params"]}
    opt = torch.optim.AdamW(groups, lr=LRS[0], betas=(BETA1, BETA2), eps=EPS, foreach=False)

    t = {}
    for n, p in named:
        t["init." + n] = p.detach().clone()
    for step, lr in enumerate(LRS, start=1):
        for grp in opt.param_groups:
            grp["lr"] = lr
        for n, p in named:
            # gradients of mixed scales, some elements exactly 0 (only eps keeps the denominator from 0 at step 1)
            gr = torch.randn(p.shape, generator=g, dtype=torch.float32) * (10.0 ** torch.randint(-3, 1, p.shape, generator=g))
            gr[torch.rand(p.shape, generator=g) < 0.1] = 0
            p.grad = gr
            t[f"grad.{step}.{n}"] = gr.clone()
        opt.step()
        for n, p in named:
            st = opt.state[p]
            t[f"param.{step}.{n}"] = p.detach().clone()
            t[f"exp_avg.{step}.{n}"] = st["exp_avg"].clone()
            t[f"exp_avg_sq.{step}.{n}"] = st["exp_avg_sq"].clone()

    meta = {
        "lrs": ",".join(repr(x) for x in LRS),
        "beta1": repr(BETA1), "beta2": repr(BETA2), "eps": repr(EPS), "weight_decay": repr(WEIGHT_DECAY),
        "steps": str(len(LRS)),
        "params": ",".join(n for n, _ in PARAMS),
        "decay": ",".join(n for n, p in named if id(p) in decay_ids),
        "torch": torch.__version__,
    }
    safetensors_io.write(out, {k: v.numpy() for k, v in t.items()}, meta)
    print(f"wrote {out}: {len(t)} tensors; decay group: {meta['decay']}")


if __name__ == "__main__":
    main()
