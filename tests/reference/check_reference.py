#!/usr/bin/env python3
"""Self-checks of the float64 MAE reference. Run: /usr/bin/python3 tests/reference/check_reference.py

(a) patchify/unpatchify identity (C=1, 3, 2) and explicit-loop patch ordering; conv2d == patch embed
(b) autograd gradients == torch.autograd.gradcheck (finite differences), float64, tiny configs
(c) mask has L-len_keep ones per row, latent has 1+len_keep rows, ids_restore inverts the shuffle
(d) encoder on visible tokens == full encoder stack run on independently gathered tokens
(e) whole forward/backward == an independent torch.nn.functional formulation
(f) sin-cos vs explicit loops; safetensors round trip (F32/F64/I64/F16, BF16 read)
(g) golden files (if present) reproduce bit-exactly, and a float32 run stays within 1e-4 of them
"""
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from mae_reference import (FROZEN, MAE, MAEConfig, compute_len_keep, patchify,  # noqa: E402
                           run_forward, sincos_2d, unpatchify)

D64 = torch.float64
GOLDEN = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "..", "src", "test", "resources", "golden"))


def tiny_model(seed, c=2, norm_pix=True, img=4, p=2, d=8, heads=2, dd=8, dh=2, mlp=2.0,
               depth=1, ddepth=1):
    cfg = MAEConfig(img, p, c, d, depth, heads, dd, ddepth, dh, mlp, norm_pix)
    m = MAE(cfg)
    m.init_weights(seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for n, prm in m.named_parameters():
            if n not in FROZEN:
                prm.add_(0.1 * torch.randn(prm.shape, generator=g, dtype=D64))
    return m


def inputs(cfg, n, seed):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randn(n, cfg.in_chans, cfg.img_size, cfg.img_size, generator=g, dtype=D64)
    noise = torch.rand(n, cfg.num_patches, generator=g, dtype=D64)
    return imgs, noise


def check_a():
    for c in (1, 3, 2):
        imgs = torch.randn(2, c, 12, 12, dtype=D64)
        x = patchify(imgs, 4)
        assert x.shape == (2, 9, 16 * c)
        assert torch.equal(unpatchify(x, 4, c), imgs)
        # explicit loops: patch row*g+col, inside pixel row, pixel col, channel fastest
        for n in range(2):
            for r in range(3):
                for col in range(3):
                    for pr in range(4):
                        for pc in range(4):
                            for ch in range(c):
                                v = x[n, r * 3 + col, (pr * 4 + pc) * c + ch]
                                assert v == imgs[n, ch, r * 4 + pr, col * 4 + pc]
    # patch embed == conv2d, kernel = stride = p
    m = tiny_model(1, c=3, img=8, p=4)
    imgs = torch.randn(2, 3, 8, 8, dtype=D64)
    ref = F.conv2d(imgs, m.patch_embed.proj.weight, m.patch_embed.proj.bias, stride=4)
    ref = ref.flatten(2).transpose(1, 2)
    assert torch.allclose(m.patch_embed(imgs), ref, rtol=1e-13, atol=1e-13)
    print("(a) patchify/unpatchify identity, patch order, conv2d patch embed: ok")


def check_b():
    for norm_pix, c, ratio in ((True, 2, 0.75), (False, 1, 0.5), (True, 3, 0.25)):
        m = tiny_model(2, c=c, norm_pix=norm_pix)
        imgs, noise = inputs(m.cfg, 2, 3)
        names = m.trainable_names()
        prms = dict(m.named_parameters())
        leaves = [prms[n] for n in names]
        # gradcheck perturbs the leaves in place, so it probes the model's own parameters
        assert torch.autograd.gradcheck(lambda *ps: m(imgs, noise, ratio)[0], leaves,
                                        eps=1e-6, atol=1e-7, rtol=1e-5)
    print("(b) gradcheck (finite differences, float64) on 3 tiny configs: ok")


def check_c():
    for L_img, p, ratio in ((28, 4, 0.75), (28, 4, 0.5), (12, 4, 0.75), (16, 8, 0.75)):
        m = tiny_model(4, c=1, img=L_img, p=p)
        imgs, noise = inputs(m.cfg, 3, 5)
        L = m.cfg.num_patches
        k = compute_len_keep(L, ratio)
        assert k == int(L * (1 - ratio))
        loss, pred, mask, latent, ids_restore = m(imgs, noise, ratio)
        assert torch.equal(mask.sum(1), torch.full((3,), float(L - k), dtype=D64))
        assert latent.shape == (3, 1 + k, m.cfg.embed_dim)
        assert pred.shape == (3, L, p * p)
        order = torch.from_numpy(np.argsort(noise.numpy(), axis=1, kind="stable"))
        for n in range(3):
            assert torch.equal(order[n][ids_restore[n]], torch.arange(L))
            kept = set(order[n, :k].tolist())
            for i in range(L):
                assert mask[n, i] == (0.0 if i in kept else 1.0)
    assert compute_len_keep(49, 0.75) == 12 and compute_len_keep(9, 0.75) == 2
    assert compute_len_keep(10, 0.9) == 0  # floating rounding: 10 * 0.0999..98 < 1
    print("(c) mask counts, latent rows, ids_restore: ok")


def check_d():
    m = tiny_model(6, c=3, img=12, p=4, d=12, heads=3, depth=2)
    imgs, noise = inputs(m.cfg, 2, 7)
    ratio = 0.75
    k = compute_len_keep(9, ratio)
    latent = m(imgs, noise, ratio)[3]
    pe = torch.from_numpy(sincos_2d(12, 3))
    w = m.patch_embed.proj.weight
    for n in range(2):
        keep = np.argsort(noise[n].numpy(), kind="stable")[:k]
        toks = [m.cls_token[0, 0] + pe[0]]
        for i in keep:
            r, c = divmod(int(i), 3)
            patch = imgs[n, :, r * 4:(r + 1) * 4, c * 4:(c + 1) * 4]  # (C, p, p)
            toks.append((w * patch).sum(dim=(1, 2, 3)) + m.patch_embed.proj.bias + pe[1 + i])
        x = torch.stack(toks)[None]
        for blk in m.blocks:
            x = blk(x)
        x = m.norm(x)
        assert torch.allclose(x[0], latent[n], rtol=1e-12, atol=1e-12)
    print("(d) encoder on visible tokens == full encoder on gathered tokens: ok")


def functional_forward(m, imgs, noise, ratio):
    """Independent formulation with torch.nn.functional primitives."""
    cfg = m.cfg
    P = dict(m.named_parameters())
    p, c = cfg.patch_size, cfg.in_chans
    N, L = noise.shape
    k = int(L * (1 - ratio))

    def block(x, pre, heads):
        d = x.shape[-1]
        hd = d // heads
        h = F.layer_norm(x, (d,), P[pre + "norm1.weight"], P[pre + "norm1.bias"], eps=1e-6)
        qkv = F.linear(h, P[pre + "attn.qkv.weight"], P[pre + "attn.qkv.bias"])
        qkv = qkv.reshape(x.shape[0], x.shape[1], 3, heads, hd).permute(2, 0, 3, 1, 4)
        a = torch.softmax(qkv[0] @ qkv[1].transpose(-2, -1) / math.sqrt(hd), dim=-1) @ qkv[2]
        a = a.transpose(1, 2).reshape(x.shape)
        x = x + F.linear(a, P[pre + "attn.proj.weight"], P[pre + "attn.proj.bias"])
        h = F.layer_norm(x, (d,), P[pre + "norm2.weight"], P[pre + "norm2.bias"], eps=1e-6)
        h = F.gelu(F.linear(h, P[pre + "mlp.fc1.weight"], P[pre + "mlp.fc1.bias"]))
        return x + F.linear(h, P[pre + "mlp.fc2.weight"], P[pre + "mlp.fc2.bias"])

    x = F.conv2d(imgs, P["patch_embed.proj.weight"], P["patch_embed.proj.bias"], stride=p)
    x = x.flatten(2).transpose(1, 2) + P["pos_embed"][:, 1:]
    shuf = torch.argsort(noise, dim=1)
    restore = torch.argsort(shuf, dim=1)
    x = torch.stack([x[n, shuf[n, :k]] for n in range(N)])
    mask = torch.ones(N, L, dtype=D64)
    for n in range(N):
        mask[n, shuf[n, :k]] = 0
    x = torch.cat([(P["cls_token"] + P["pos_embed"][:, :1]).expand(N, -1, -1), x], 1)
    for i in range(cfg.depth):
        x = block(x, f"blocks.{i}.", cfg.num_heads)
    latent = F.layer_norm(x, (x.shape[-1],), P["norm.weight"], P["norm.bias"], eps=1e-6)
    y = F.linear(latent, P["decoder_embed.weight"], P["decoder_embed.bias"])
    full = []
    for n in range(N):
        rows = []
        pos_in_vis = {int(j): t for t, j in enumerate(shuf[n, :k])}
        for i in range(L):
            rows.append(y[n, 1 + pos_in_vis[i]] if i in pos_in_vis else P["mask_token"][0, 0])
        full.append(torch.stack([y[n, 0]] + rows))
    y = torch.stack(full) + P["decoder_pos_embed"]
    for i in range(cfg.decoder_depth):
        y = block(y, f"decoder_blocks.{i}.", cfg.decoder_num_heads)
    y = F.layer_norm(y, (y.shape[-1],), P["decoder_norm.weight"], P["decoder_norm.bias"], eps=1e-6)
    pred = F.linear(y, P["decoder_pred.weight"], P["decoder_pred.bias"])[:, 1:]
    t = imgs.reshape(N, c, cfg.grid, p, cfg.grid, p)
    t = torch.einsum("nchpwq->nhwpqc", t).reshape(N, L, p * p * c)
    if cfg.norm_pix_loss:
        t = (t - t.mean(-1, keepdim=True)) / (t.var(-1, unbiased=True, keepdim=True) + 1e-6) ** .5
    loss = (((pred - t) ** 2).mean(-1) * mask).sum() / mask.sum()
    return loss, pred, mask, latent, restore


def check_e():
    for kw, ratio in ((dict(c=3, img=12, p=4, d=24, heads=3, dd=16, dh=2, mlp=4.0, depth=2,
                            ddepth=2, norm_pix=True), 0.75),
                      (dict(c=1, img=8, p=2, d=16, heads=1, dd=8, dh=2, mlp=2.5,
                            norm_pix=False), 0.5)):
        m = tiny_model(8, **kw)
        imgs, noise = inputs(m.cfg, 3, 9)
        a = m(imgs, noise, ratio)
        m.zero_grad()
        a[0].backward()
        ga = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
        m.zero_grad()
        b = functional_forward(m, imgs, noise, ratio)
        b[0].backward()
        for x, y in zip(a, b):
            assert torch.allclose(x.double(), y.double(), rtol=1e-11, atol=1e-12)
        assert set(ga) == set(m.trainable_names())
        for n, g in ga.items():
            assert torch.allclose(g, dict(m.named_parameters())[n].grad, rtol=1e-10, atol=1e-13), n
    print("(e) forward + all gradients == independent functional formulation: ok")


def check_f():
    for dim, g in ((16, 4), (24, 3), (8, 7)):
        e = sincos_2d(dim, g)
        assert e.shape == (1 + g * g, dim) and not e[0].any()
        q = dim // 4
        for i in range(g):
            for j in range(g):
                row = e[1 + i * g + j]
                for kk in range(q):
                    w = 1.0 / 10000 ** (kk / q)
                    exp = [math.sin(j * w), math.cos(j * w), math.sin(i * w), math.cos(i * w)]
                    got = [row[kk], row[q + kk], row[2 * q + kk], row[3 * q + kk]]
                    assert np.allclose(got, exp, rtol=0, atol=1e-15)
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "t.safetensors")
        t = {"a": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "b": np.array(3.5),
             "c": np.array([-1, 2 ** 40], dtype=np.int64), "s": np.float32(2.25).reshape(()),
             "h": np.array([1.5, -0.1], dtype=np.float16)}
        safetensors_io.write(p, t, {"k": "v"})
        r, meta = safetensors_io.read(p)
        assert meta == {"k": "v"} and set(r) == set(t)
        for n in t:
            assert r[n].dtype == t[n].dtype and r[n].shape == t[n].shape
            assert np.array_equal(r[n], t[n])
        # BF16, hand-made file: 1.0 = 0x3F80, -2.5 = 0xC020
        hdr = b'{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}'
        with open(p, "wb") as f:
            f.write(struct.pack("<Q", len(hdr)) + hdr + struct.pack("<HH", 0x3F80, 0xC020))
        r, meta = safetensors_io.read(p)
        assert meta == {} and r["x"].tolist() == [1.0, -2.5]
    print("(f) sin-cos formula, safetensors round trip: ok")


def check_g():
    if not os.path.isdir(GOLDEN):
        print("(g) no golden directory, skipped")
        return
    cases = sorted(d for d in os.listdir(GOLDEN) if os.path.isdir(os.path.join(GOLDEN, d)))
    with tempfile.TemporaryDirectory() as td:
        for case in cases:
            d = os.path.join(GOLDEN, case)
            out = os.path.join(td, case + ".safetensors")
            run_forward(os.path.join(d, "weights.safetensors"),
                        os.path.join(d, "inputs.safetensors"), out, grads=True)
            with open(out, "rb") as a, open(os.path.join(d, "expected.safetensors"), "rb") as b:
                assert a.read() == b.read(), f"{case}: expected.safetensors does not reproduce"
            # float32 run of the same model: how far is plain float32 from the golden?
            exp, _ = safetensors_io.read(os.path.join(d, "expected.safetensors"))
            wt, meta = safetensors_io.read(os.path.join(d, "weights.safetensors"))
            inp, imeta = safetensors_io.read(os.path.join(d, "inputs.safetensors"))
            m = MAE(MAEConfig.from_metadata(meta))
            m.load_tensors(wt)
            m.float()
            res = m(torch.from_numpy(inp["imgs"]), torch.from_numpy(inp["noise"]).double().float(),
                    float(imeta["mask_ratio"]))
            res[0].backward()
            got = dict(zip(("loss", "pred", "mask", "latent"), res))
            for n, p in m.named_parameters():
                if n not in FROZEN:
                    got["grad." + n] = p.grad
            worst = 0.0
            for n, v in got.items():
                e = exp[n].astype(np.float64)
                v = v.detach().double().numpy()
                # error relative to the tensor's largest magnitude
                err = np.max(np.abs(v - e)) / max(np.max(np.abs(e)), 1e-30)
                worst = max(worst, err)
                assert err < 1e-4, f"{case}: float32 {n} off by {err:.2e} (relative to max)"
            assert np.array_equal(res[4].numpy(), exp["ids_restore"])
            print(f"    {case}: float32 torch vs golden, worst max-normalized error {worst:.1e}")
    print(f"(g) {len(cases)} golden cases reproduce bit-exactly; float32 within 1e-4: ok")


if __name__ == "__main__":
    torch.manual_seed(0)
    check_a()
    check_b()
    check_c()
    check_d()
    check_e()
    check_f()
    check_g()
    print("all reference checks passed")
