#!/usr/bin/env python3
"""Our own PyTorch reference of the Masked Autoencoder, written from shared/docs/mae-spec.md.

It exists to produce golden files for the Java engine's tests. All arithmetic runs in float64:
the float32 weights and inputs are cast to double, forward and backward run in double, and the
results are rounded to float32 once when written.

Command (mirrors the Java contract):
  /usr/bin/python3 tests/reference/mae_reference.py forward --weights W.safetensors \
      --inputs I.safetensors --out O.safetensors [--grads]
  /usr/bin/python3 tests/reference/mae_reference.py init --init-seed S --out W.safetensors \
      --img-size 28 --patch-size 4 --in-chans 1 --embed-dim 192 ... (see --help)
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

DTYPE = torch.float64
LN_EPS = 1e-6
FROZEN = ("pos_embed", "decoder_pos_embed")

CONFIG_KEYS = ("img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
               "decoder_embed_dim", "decoder_depth", "decoder_num_heads", "mlp_ratio",
               "norm_pix_loss")


# ----------------------------------------------------------------------------- config

class MAEConfig:
    def __init__(self, img_size, patch_size, in_chans, embed_dim, depth, num_heads,
                 decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio=4.0,
                 norm_pix_loss=False):
        self.img_size = int(img_size)
        self.patch_size = int(patch_size)
        self.in_chans = int(in_chans)
        self.embed_dim = int(embed_dim)
        self.depth = int(depth)
        self.num_heads = int(num_heads)
        self.decoder_embed_dim = int(decoder_embed_dim)
        self.decoder_depth = int(decoder_depth)
        self.decoder_num_heads = int(decoder_num_heads)
        self.mlp_ratio = float(mlp_ratio)
        self.norm_pix_loss = bool(norm_pix_loss)
        if self.img_size % self.patch_size:
            raise ValueError("img_size must be a multiple of patch_size")
        for d, h in ((self.embed_dim, self.num_heads),
                     (self.decoder_embed_dim, self.decoder_num_heads)):
            if d % h:
                raise ValueError(f"width {d} not divisible by heads {h}")
            if d % 4:
                raise ValueError(f"width {d} must be a multiple of 4 for 2D sin-cos")

    @property
    def grid(self):
        return self.img_size // self.patch_size

    @property
    def num_patches(self):
        return self.grid * self.grid

    def to_metadata(self):
        m = {k: str(getattr(self, k)) for k in CONFIG_KEYS}
        m["mlp_ratio"] = repr(float(self.mlp_ratio))  # e.g. "4.0"
        m["norm_pix_loss"] = "true" if self.norm_pix_loss else "false"
        return m

    @staticmethod
    def from_metadata(meta):
        missing = [k for k in CONFIG_KEYS if k not in meta]
        if missing:
            raise ValueError(f"config keys missing from __metadata__: {missing}")
        npl = meta["norm_pix_loss"].strip().lower()
        if npl not in ("true", "false"):
            raise ValueError(f"norm_pix_loss must be 'true' or 'false', got {npl!r}")
        kw = {k: meta[k] for k in CONFIG_KEYS if k not in ("mlp_ratio", "norm_pix_loss")}
        return MAEConfig(mlp_ratio=float(meta["mlp_ratio"]), norm_pix_loss=(npl == "true"),
                         **{k: int(v) for k, v in kw.items()})


def compute_len_keep(num_patches, mask_ratio):
    # len_keep = floor(L * (1 - mask_ratio)), computed EXACTLY like the reference:
    # int(L * (1 - mask_ratio)) in double precision. Floating rounding matters: L=49, ratio 0.75
    # gives int(12.25) = 12, but e.g. L=10, ratio 0.9 gives int(10 * 0.09999999999999998) = 0,
    # not 1. Engines must reproduce this double expression, not an exact-decimal floor.
    return int(num_patches * (1 - float(mask_ratio)))


# ----------------------------------------------------------------------------- sin-cos

def sincos_1d(d, pos):
    """pos: float64 array (M,) -> (M, d): [sin(pos*w_k) for k] ++ [cos(pos*w_k) for k]."""
    assert d % 2 == 0
    k = np.arange(d // 2, dtype=np.float64)
    w = 1.0 / 10000.0 ** (k / (d / 2.0))
    ang = np.asarray(pos, dtype=np.float64).reshape(-1)[:, None] * w[None, :]
    return np.concatenate([np.sin(ang), np.cos(ang)], axis=1)


def sincos_2d(dim, grid, cls_token=True):
    """(1+g*g, dim) float64 (or (g*g, dim)); row index = i*g + j for grid row i, column j.
    First half encodes the column j, second half the row i."""
    assert dim % 4 == 0
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    emb = np.concatenate([sincos_1d(dim // 2, cols.astype(np.float64)),
                          sincos_1d(dim // 2, rows.astype(np.float64))], axis=1)
    if cls_token:
        emb = np.concatenate([np.zeros((1, dim)), emb], axis=0)
    return emb


# ----------------------------------------------------------------------------- model

def patchify(imgs, p):
    """(N,C,H,W) -> (N, L, p*p*C) in (p_row, p_col, C) order, patch index row*g + col."""
    n, c, h, w = imgs.shape
    gh, gw = h // p, w // p
    x = imgs.reshape(n, c, gh, p, gw, p)
    x = x.permute(0, 2, 4, 3, 5, 1)  # (N, g_row, g_col, p_row, p_col, C)
    return x.reshape(n, gh * gw, p * p * c)


def unpatchify(x, p, c):
    """Exact inverse of patchify for a square grid."""
    n, L, _ = x.shape
    g = int(round(math.sqrt(L)))
    assert g * g == L
    x = x.reshape(n, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)  # (N, C, g_row, p_row, g_col, p_col)
    return x.reshape(n, c, g * p, g * p)


def patches_chw(imgs, p):
    """(N,C,H,W) -> (N, L, C*p*p) in (C, p_row, p_col) order: the conv-kernel flattening."""
    n, c, h, w = imgs.shape
    gh, gw = h // p, w // p
    x = imgs.reshape(n, c, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5)  # (N, gr, gc, C, pr, pc)
    return x.reshape(n, gh * gw, c * p * p)


def layer_norm(x, weight, bias):
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)  # biased, as LayerNorm
    return (x - mu) / torch.sqrt(var + LN_EPS) * weight + bias


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d, dtype=DTYPE))
        self.bias = nn.Parameter(torch.zeros(d, dtype=DTYPE))

    def forward(self, x):
        return layer_norm(x, self.weight, self.bias)


class Linear(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(fout, fin, dtype=DTYPE))
        self.bias = nn.Parameter(torch.zeros(fout, dtype=DTYPE))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = Linear(d, 3 * d)
        self.proj = Linear(d, d)

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(x)  # (N, T, 3D): [q | k | v], head h owns h*hd..(h+1)*hd in each
        q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]

        def split(z):
            return z.reshape(n, t, self.heads, hd).permute(0, 2, 1, 3)  # (N, h, T, hd)

        q, k, v = split(q), split(k), split(v)
        scores = (q @ k.transpose(-2, -1)) * (hd ** -0.5)
        scores = scores - scores.max(dim=-1, keepdim=True).values.detach()
        e = torch.exp(scores)
        attn = e / e.sum(dim=-1, keepdim=True)
        out = (attn @ v).permute(0, 2, 1, 3).reshape(n, t, d)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1 = Linear(d, hidden)
        self.fc2 = Linear(hidden, d)

    def forward(self, x):
        return self.fc2(gelu_erf(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d, heads, mlp_ratio):
        super().__init__()
        self.norm1 = LayerNorm(d)
        self.attn = Attention(d, heads)
        self.norm2 = LayerNorm(d)
        self.mlp = Mlp(d, int(d * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, c, p, d):
        super().__init__()
        self.p = p
        self.proj = nn.Module()
        self.proj.weight = nn.Parameter(torch.zeros(d, c, p, p, dtype=DTYPE))
        self.proj.bias = nn.Parameter(torch.zeros(d, dtype=DTYPE))

    def forward(self, imgs):
        w = self.proj.weight
        x = patches_chw(imgs, self.p)  # (N, L, C*p*p), conv-kernel order
        return x @ w.reshape(w.shape[0], -1).t() + self.proj.bias


class MAE(nn.Module):
    def __init__(self, cfg: MAEConfig):
        super().__init__()
        self.cfg = cfg
        D, Dd, L = cfg.embed_dim, cfg.decoder_embed_dim, cfg.num_patches
        pc = cfg.patch_size ** 2 * cfg.in_chans
        self.patch_embed = PatchEmbed(cfg.in_chans, cfg.patch_size, D)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D, dtype=DTYPE))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + L, D, dtype=DTYPE), requires_grad=False)
        self.blocks = nn.ModuleList([Block(D, cfg.num_heads, cfg.mlp_ratio)
                                     for _ in range(cfg.depth)])
        self.norm = LayerNorm(D)
        self.decoder_embed = Linear(D, Dd)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, Dd, dtype=DTYPE))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, 1 + L, Dd, dtype=DTYPE),
                                              requires_grad=False)
        self.decoder_blocks = nn.ModuleList([Block(Dd, cfg.decoder_num_heads, cfg.mlp_ratio)
                                             for _ in range(cfg.decoder_depth)])
        self.decoder_norm = LayerNorm(Dd)
        self.decoder_pred = Linear(Dd, pc)

    # -- weights
    def trainable_names(self):
        return [n for n, _ in self.named_parameters() if n not in FROZEN]

    def init_weights(self, seed):
        """The spec's initialization, drawn from torch.Generator(seed) in float64."""
        g = torch.Generator().manual_seed(int(seed))
        cfg = self.cfg
        with torch.no_grad():
            self.pos_embed.copy_(torch.from_numpy(sincos_2d(cfg.embed_dim, cfg.grid))[None])
            self.decoder_pos_embed.copy_(
                torch.from_numpy(sincos_2d(cfg.decoder_embed_dim, cfg.grid))[None])
            for name, prm in self.named_parameters():
                if name in FROZEN:
                    continue
                if name in ("cls_token", "mask_token"):
                    prm.copy_(torch.randn(prm.shape, generator=g, dtype=DTYPE) * 0.02)
                elif name.endswith(".bias"):
                    prm.zero_()
                elif prm.dim() == 1:  # LayerNorm weight
                    prm.fill_(1.0)
                else:  # linear weight (out, in), or patch-embed (D, C, p, p) viewed (D, C*p*p)
                    fan_out = prm.shape[0]
                    fan_in = prm.numel() // fan_out
                    a = math.sqrt(6.0 / (fan_in + fan_out))
                    prm.copy_(torch.rand(prm.shape, generator=g, dtype=DTYPE) * (2 * a) - a)

    def load_tensors(self, tensors):
        own = dict(self.named_parameters())
        extra = sorted(set(tensors) - set(own))
        missing = sorted(set(own) - set(tensors))
        if extra or missing:
            raise ValueError(f"weights mismatch: missing {missing}, unexpected {extra}")
        with torch.no_grad():
            for name, prm in own.items():
                t = torch.as_tensor(np.asarray(tensors[name])).to(DTYPE)
                if tuple(t.shape) != tuple(prm.shape):
                    raise ValueError(f"{name}: shape {tuple(t.shape)} != {tuple(prm.shape)}")
                prm.copy_(t)

    def state_arrays(self, dtype=np.float32):
        return {n: p.detach().numpy().astype(dtype) for n, p in self.named_parameters()}

    # -- forward pieces
    def random_masking(self, x, noise, len_keep):
        n, L, d = x.shape
        ids_shuffle = torch.sort(noise, dim=1, stable=True).indices  # ascending: small is kept
        ids_restore = torch.sort(ids_shuffle, dim=1, stable=True).indices
        ids_keep = ids_shuffle[:, :len_keep]
        x_vis = torch.gather(x, 1, ids_keep[:, :, None].expand(-1, -1, d))
        mask = torch.ones(n, L, dtype=x.dtype)
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        return x_vis, mask, ids_restore

    def forward_encoder(self, imgs, noise, len_keep):
        x = self.patch_embed(imgs)
        x = x + self.pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, noise, len_keep)
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore

    def forward_decoder(self, latent, ids_restore):
        x = self.decoder_embed(latent)
        n, t, dd = x.shape
        L = ids_restore.shape[1]
        mask_tokens = self.mask_token.expand(n, L + 1 - t, dd)
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        x_ = torch.gather(x_, 1, ids_restore[:, :, None].expand(-1, -1, dd))
        x = torch.cat([x[:, :1, :], x_], dim=1)
        x = x + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        x = self.decoder_pred(self.decoder_norm(x))
        return x[:, 1:, :]

    def forward_loss(self, imgs, pred, mask):
        target = patchify(imgs, self.cfg.patch_size)
        if self.cfg.norm_pix_loss:
            m = target.shape[-1]
            mean = target.mean(dim=-1, keepdim=True)
            var = ((target - mean) ** 2).sum(dim=-1, keepdim=True) / (m - 1)  # UNBIASED
            target = (target - mean) / torch.sqrt(var + 1e-6)
        per_patch = ((pred - target) ** 2).mean(dim=-1)
        return (per_patch * mask).sum() / mask.sum()

    def forward(self, imgs, noise, mask_ratio):
        len_keep = compute_len_keep(self.cfg.num_patches, mask_ratio)
        latent, mask, ids_restore = self.forward_encoder(imgs, noise, len_keep)
        pred = self.forward_decoder(latent, ids_restore)
        loss = self.forward_loss(imgs, pred, mask)
        return loss, pred, mask, latent, ids_restore


# ----------------------------------------------------------------------------- file contract

def load_model(weights_path):
    tensors, meta = safetensors_io.read(weights_path)
    model = MAE(MAEConfig.from_metadata(meta))
    model.load_tensors(tensors)
    return model


def run_forward(weights_path, inputs_path, out_path, grads):
    model = load_model(weights_path)
    inp, imeta = safetensors_io.read(inputs_path)
    if "mask_ratio" not in imeta:
        raise ValueError("inputs __metadata__ lacks mask_ratio")
    mask_ratio = float(imeta["mask_ratio"])
    imgs = torch.from_numpy(inp["imgs"]).to(DTYPE)
    noise = torch.from_numpy(inp["noise"]).to(DTYPE)
    cfg = model.cfg
    exp_img = (cfg.in_chans, cfg.img_size, cfg.img_size)
    if imgs.dim() != 4 or tuple(imgs.shape[1:]) != exp_img:
        raise ValueError(f"imgs shape {tuple(imgs.shape)} does not match config {exp_img}")
    if tuple(noise.shape) != (imgs.shape[0], cfg.num_patches):
        raise ValueError(f"noise shape {tuple(noise.shape)} != {(imgs.shape[0], cfg.num_patches)}")
    model.zero_grad(set_to_none=True)
    with torch.set_grad_enabled(grads):
        loss, pred, mask, latent, ids_restore = model(imgs, noise, mask_ratio)
        if grads:
            loss.backward()
    out = {
        "loss": np.asarray(loss.item(), dtype=np.float32).reshape(()),
        "pred": pred.detach().numpy().astype(np.float32),
        "mask": mask.detach().numpy().astype(np.float32),
        "latent": latent.detach().numpy().astype(np.float32),
        "ids_restore": ids_restore.numpy().astype(np.int64),
    }
    if grads:
        for name, prm in model.named_parameters():
            if name in FROZEN:
                continue
            g = prm.grad if prm.grad is not None else torch.zeros_like(prm)
            out["grad." + name] = g.numpy().astype(np.float32)
    meta = {"mask_ratio": imeta["mask_ratio"],
            "len_keep": str(compute_len_keep(cfg.num_patches, mask_ratio)),
            "loss_f64": repr(loss.item()),
            "reference": "tests/reference/mae_reference.py (float64 forward/backward)"}
    safetensors_io.write(out_path, out, meta)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("forward", help="forward (+ backward) from weights and inputs files")
    f.add_argument("--weights", required=True)
    f.add_argument("--inputs", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--grads", action="store_true")
    i = sub.add_parser("init", help="write spec-initialized weights")
    i.add_argument("--init-seed", type=int, required=True)
    i.add_argument("--out", required=True)
    i.add_argument("--img-size", type=int, default=28)
    i.add_argument("--patch-size", type=int, default=4)
    i.add_argument("--in-chans", type=int, default=1)
    i.add_argument("--embed-dim", type=int, default=192)
    i.add_argument("--depth", type=int, default=6)
    i.add_argument("--num-heads", type=int, default=3)
    i.add_argument("--decoder-embed-dim", type=int, default=128)
    i.add_argument("--decoder-depth", type=int, default=2)
    i.add_argument("--decoder-num-heads", type=int, default=4)
    i.add_argument("--mlp-ratio", type=float, default=4.0)
    i.add_argument("--norm-pix-loss", action="store_true")
    a = ap.parse_args(argv)
    if a.cmd == "forward":
        out = run_forward(a.weights, a.inputs, a.out, a.grads)
        print(f"loss {float(out['loss']):.9g} -> {a.out}")
    else:
        cfg = MAEConfig(a.img_size, a.patch_size, a.in_chans, a.embed_dim, a.depth, a.num_heads,
                        a.decoder_embed_dim, a.decoder_depth, a.decoder_num_heads, a.mlp_ratio,
                        a.norm_pix_loss)
        model = MAE(cfg)
        model.init_weights(a.init_seed)
        safetensors_io.write(a.out, model.state_arrays(), cfg.to_metadata())
        print(f"init seed {a.init_seed} -> {a.out}")


if __name__ == "__main__":
    main()
