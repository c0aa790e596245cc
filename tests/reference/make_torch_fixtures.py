#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures read by mae.tensor.io.TorchCheckpointTest.

  /usr/bin/python3 tests/reference/make_torch_fixtures.py [--out DIR]

Default DIR: tensor/src/test/resources/torch/. Deterministic (fixed seeds), a few KB per file:

  mae_checkpoint.pth   torch.save(to_save) the way the official MAE repo's util/misc.py save_model does:
                       {'model': state_dict, 'optimizer': AdamW state, 'epoch': 799, 'scaler': {...},
                        'args': argparse.Namespace(...)}
  pytorch_model.bin    the same state dict saved bare (Hugging Face style)
  protocol4.pt         the same state dict with pickle_protocol=4 (FRAME, MEMOIZE, SHORT_BINUNICODE,
                       STACK_GLOBAL instead of protocol 2's opcodes)
  views.pt             views of one storage: transposed, row slice (storage offset), column (offset +
                       stride), expanded (stride 0), permuted; plus a scalar, an empty tensor, int64
                       position ids, int32 and float64 tensors
  half.pt              float16 and bfloat16 tensors with special values, contiguous and not
  legacy.pt            the state dict with _use_new_zipfile_serialization=False (must be refused)
  evil_os_system.pt    zip checkpoints whose pickle names os.system / builtins.eval via __reduce__;
  evil_eval.pt         written by torch.save (pickling never calls them) and never loaded here
  expected.safetensors every tensor above as "<file>/<name>", made contiguous, floats as F32 (float16,
                       bfloat16 exactly; float64 rounded to nearest, as Java's (float) cast does),
                       integers as I64; __metadata__ "<file>" -> "name:DTYPE,..." in file order

The Java test compares values bit for bit against expected.safetensors. The extras it checks (epoch,
args, scaler) are the constants ARGS, EPOCH and SCALER below.
"""
import argparse
import collections
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "tensor", "src", "test", "resources", "torch"))

EPOCH = 799
SCALER = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 0}
ARGS = dict(batch_size=64, epochs=800, accum_iter=1, model="mae_vit_tiny_patch2", input_size=8, mask_ratio=0.75,
            norm_pix_loss=True, weight_decay=0.05, lr=None, blr=1.5e-4, min_lr=0.0, warmup_epochs=40,
            data_path="/datasets01/imagenet_full_size/061417/", output_dir="./output_dir", device="cuda",
            seed=0, resume="", start_epoch=0, num_workers=10, pin_mem=True, world_size=8,
            distributed=False)

DTYPE_CODE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
              torch.int64: "I64", torch.int32: "I32"}


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(dim, 3 * dim)


class TinyMae(nn.Module):
    """A few parameters under the official MAE names; state_dict() is an OrderedDict with _metadata."""

    def __init__(self, dim=8):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 5, dim), requires_grad=False)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(1, dim, kernel_size=2, stride=2)
        self.blocks = nn.ModuleList([Block(dim)])
        self.norm = nn.LayerNorm(dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))


def tiny_model():
    torch.manual_seed(0)
    m = TinyMae()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape))
    return m


def official_checkpoint(model):
    """What util/misc.py save_model writes (one AdamW step so the optimizer holds tensors)."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, betas=(0.9, 0.95))
    model.zero_grad()
    loss = sum((p * p).sum() for p in model.parameters() if p.requires_grad)
    loss.backward()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    opt.step()
    with torch.no_grad():  # keep the saved weights those of the bare state dict
        for k, v in model.state_dict().items():
            v.copy_(state[k])
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": EPOCH,
            "scaler": dict(SCALER), "args": argparse.Namespace(**ARGS)}


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3.0
    cube = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(7))
    return {
        "base": base,
        "transposed": base.t(),                     # stride (1, 6)
        "rows": base[1:3],                          # storage offset 6, contiguous
        "column": base[:, 2],                       # storage offset 2, stride 6
        "block": base[1:4, 2:5],                    # offset 8, strides (6, 1), not contiguous
        "expanded": torch.tensor([1.5, -2.0]).view(2, 1).expand(2, 3),  # stride (1, 0)
        "permuted": cube.permute(2, 0, 1),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "position_ids": torch.arange(7).unsqueeze(0),
        "int32": torch.tensor([-7, 0, 2147483647], dtype=torch.int32),
        "double": torch.tensor([0.1, -3e300, 1e-50, 2.5], dtype=torch.float64),
    }


def halves():
    special = [1.0, -2.5, 65504.0, 2.0 ** -24, 1023 * 2.0 ** -24, float("inf"), float("-inf"), -0.0, 2.0 ** -14,
               0.1, -1.0 / 3]
    g = torch.Generator().manual_seed(3)
    grid16 = torch.randn(3, 5, generator=g).half()
    grid_bf = torch.randn(4, 3, generator=g).bfloat16()
    return {
        "f16": torch.tensor(special, dtype=torch.float16),
        "bf16": torch.tensor(special + [3e38, 1e-40], dtype=torch.bfloat16),
        "f16_t": grid16.t(),
        "bf16_cols": grid_bf[1:, 1:],
        "bf16_grid": grid_bf,
    }


class _Evil:
    """Pickles as fn(arg); torch.save only records the names, it never calls fn."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def expected_entries(stem, tensors, out, metadata):
    names = []
    for name, t in tensors.items():
        code = DTYPE_CODE[t.dtype]
        names.append(f"{name}:{code}")
        t = t.contiguous()
        out[f"{stem}/{name}"] = t.to(torch.int64) if code in ("I64", "I32") else t.to(torch.float32)
    metadata[stem] = ",".join(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    out_dir = ap.parse_args().out
    os.makedirs(out_dir, exist_ok=True)

    model = tiny_model()
    ckpt = official_checkpoint(model)
    sd = model.state_dict()
    files = {
        "mae_checkpoint.pth": ckpt,
        "pytorch_model.bin": sd,
        "protocol4.pt": sd,
        "views.pt": views(),
        "half.pt": halves(),
    }
    expected, metadata = {}, {}
    for name, obj in files.items():
        torch.save(obj, os.path.join(out_dir, name), pickle_protocol=4 if name == "protocol4.pt" else 2)
        expected_entries(name, obj["model"] if "model" in obj else obj, expected, metadata)
    torch.save(sd, os.path.join(out_dir, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({"model": _Evil(os.system, "echo pwned > /tmp/pwned")}, os.path.join(out_dir, "evil_os_system.pt"))
    torch.save({"model": _Evil(eval, "__import__('os').system('echo pwned')")}, os.path.join(out_dir, "evil_eval.pt"))
    safetensors_io.write(os.path.join(out_dir, "expected.safetensors"), expected, metadata)
    for f in sorted(os.listdir(out_dir)):
        print(f"{os.path.getsize(os.path.join(out_dir, f)):7d}  {f}")


if __name__ == "__main__":
    main()
