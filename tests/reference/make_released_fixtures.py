#!/usr/bin/env python3
"""Writes tiny MAE checkpoints laid out the way the released ones are, for the tests of mae.model.WeightFiles.

  /usr/bin/python3 tests/reference/make_released_fixtures.py [--out DIR]
  /usr/bin/python3 tests/reference/make_released_fixtures.py --big large --out /tmp/mae_visualize_vit_large.pth

Default DIR: tests/src/test/resources/released/. Deterministic (fixed seeds). One tiny MAE (32 px RGB images,
patch 8, encoder 64 wide x 2 blocks with 4 heads, decoder 32 wide x 1 block with 2 heads, MLP ratio 4, raw-pixel
targets), its weights the spec's initialization plus a seeded N(0, 0.05) perturbation (as make_golden.py does),
saved the ways the released files are:

  official/mae_visualize_tiny.pth   torch.save({'model': state_dict}) under the official names (models_mae.py),
                                    as dl.fbaipublicfiles.com/mae/visualize/mae_visualize_vit_*.pth are
  official/mae_pretrain_tiny.pth    the encoder alone, {'model': ...}, as mae/pretrain/mae_pretrain_vit_*.pth
  official/mae_finetuned_tiny.pth   the fine-tuned classifier of models_vit.py with global pool: the encoder
                                    without 'norm', plus 'fc_norm' and a 10-class 'head' (mae/finetune/...)
  official/checkpoint-tiny.pth      a training checkpoint as util/misc.py save_model writes it: 'model', 'epoch',
                                    'args' (an argparse.Namespace with norm_pix_loss=True, input_size=32)
  hf/model.safetensors              Hugging Face ViTMAEForPreTraining names (query/key/value split out of qkv,
  hf/pytorch_model.bin              layernorm_before/after, intermediate/output.dense, decoder.decoder_layers.N),
  hf/config.json                    as safetensors ({"format": "pt"}) and as torch.save(state_dict), with the
                                    config.json save_pretrained writes (ViTMAEConfig keys)
  hf-encoder/model.safetensors      ViTMAEModel (the encoder alone): the same names without 'vit.', and its
  hf-encoder/config.json            config.json
  timm/model.safetensors            the encoder under timm's names (vit_*_patch16_224.mae: the official
                                    encoder names), as safetensors with {"format": "pt"}
  inputs.safetensors                imgs (2, 3, 32, 32), noise (2, 16), mask_ratio 0.75
  expected.safetensors              mae_reference.py forward (float64) on the same weights and inputs: loss,
                                    pred, mask, latent, ids_restore
  expected_finetuned.safetensors    the classifier in float64 on imgs, no masking: 'pooled' = fc_norm(mean of
                                    the patch tokens), 'logits' = head(pooled)
  photo.png                         a 61 x 45 RGB picture (smooth colours and noise)
  expected_preprocess.safetensors   'pixels' (3, 32, 32) in [0, 1]: photo.png through the official evaluation
                                    transform with PIL (torchvision's Resize(int(32 / 0.875), BICUBIC) is PIL's
                                    resize to 48 x 36; then CenterCrop(32)), as uint8 / 255

--big large|base|huge writes one released-shaped full model (random weights, N(0, 0.02); sin-cos position
embeddings) as torch.save({'model': state_dict}) to --out: the shape and layout of mae_visualize_vit_*.pth,
for timing. Random weights: never show its pictures as the model's.
"""
import argparse
import collections
import json
import math
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from mae_reference import (DTYPE, FROZEN, MAE, MAEConfig, Block, LayerNorm, Linear, patches_chw,  # noqa: E402
                           run_forward, sincos_2d)

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "src", "test", "resources", "released"))
TINY = dict(img_size=32, patch_size=8, in_chans=3, embed_dim=64, depth=2, num_heads=4, decoder_embed_dim=32,
            decoder_depth=1, decoder_num_heads=2, mlp_ratio=4.0, norm_pix_loss=False)
SEED = 1313
CLASSES = 10
BIG = {  # the released families: (patch, width, depth, heads)
    "base": (16, 768, 12, 12), "large": (16, 1024, 24, 16), "huge": (14, 1280, 32, 16)}


def tiny_weights():
    """Official name -> float32 torch tensor, in the model's registration order."""
    cfg = MAEConfig(**TINY)
    model = MAE(cfg)
    model.init_weights(SEED)
    g = torch.Generator().manual_seed(SEED + 7919)
    with torch.no_grad():
        for name, prm in model.named_parameters():
            if name not in FROZEN:
                prm.add_(torch.randn(prm.shape, generator=g, dtype=prm.dtype) * 0.05)
    return cfg, collections.OrderedDict((n, p.detach().to(torch.float32).clone()) for n, p in model.named_parameters())


def is_decoder(name):
    return name.startswith("decoder_") or name == "mask_token"


def hf_name(name):
    """The official name as transformers' convert_vit_mae_to_pytorch.py renames it (qkv handled apart)."""
    rules = [("decoder_blocks.", "decoder.decoder_layers."), ("blocks.", "vit.encoder.layer."),
             ("patch_embed.proj.", "vit.embeddings.patch_embeddings.projection."),
             ("attn.proj.", "attention.output.dense."), ("norm1.", "layernorm_before."), ("norm2.", "layernorm_after."),
             ("mlp.fc1.", "intermediate.dense."), ("mlp.fc2.", "output.dense.")]
    fixed = {"cls_token": "vit.embeddings.cls_token", "pos_embed": "vit.embeddings.position_embeddings",
             "mask_token": "decoder.mask_token", "decoder_pos_embed": "decoder.decoder_pos_embed",
             "norm.weight": "vit.layernorm.weight", "norm.bias": "vit.layernorm.bias"}
    if name in fixed:
        return fixed[name]
    for a, b in rules:
        name = name.replace(a, b)
    for top in ("decoder_embed.", "decoder_norm.", "decoder_pred."):
        if name.startswith(top):
            name = "decoder." + name
    return name


def hf_state_dict(sd):
    out = collections.OrderedDict()
    for name, t in sd.items():
        if ".attn.qkv." in name:
            d = t.shape[0] // 3
            base = hf_name(name.replace("attn.qkv.", "attention.attention.QKV."))
            for i, part in enumerate(("query", "key", "value")):
                out[base.replace("QKV", part)] = t[i * d:(i + 1) * d].clone()
        else:
            out[hf_name(name)] = t.clone()
    return out


def hf_config(cfg):
    return {
        "architectures": ["ViTMAEForPreTraining"], "model_type": "vit_mae", "attention_probs_dropout_prob": 0.0,
        "decoder_hidden_size": cfg.decoder_embed_dim, "decoder_intermediate_size": int(cfg.decoder_embed_dim * cfg.mlp_ratio),
        "decoder_num_attention_heads": cfg.decoder_num_heads, "decoder_num_hidden_layers": cfg.decoder_depth,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "hidden_size": cfg.embed_dim, "image_size": cfg.img_size,
        "initializer_range": 0.02, "intermediate_size": int(cfg.embed_dim * cfg.mlp_ratio), "layer_norm_eps": 1e-12,
        "mask_ratio": 0.75, "norm_pix_loss": cfg.norm_pix_loss, "num_attention_heads": cfg.num_heads,
        "num_channels": cfg.in_chans, "num_hidden_layers": cfg.depth, "patch_size": cfg.patch_size, "qkv_bias": True,
        "torch_dtype": "float32", "transformers_version": "4.26.0"}


def finetuned(sd):
    """models_vit.VisionTransformer(global_pool=True): no 'norm', 'fc_norm' and 'head' after the blocks."""
    g = torch.Generator().manual_seed(SEED + 17)
    d = TINY["embed_dim"]
    out = collections.OrderedDict((n, t.clone()) for n, t in sd.items() if not is_decoder(n) and not n.startswith("norm."))
    out["fc_norm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    out["fc_norm.bias"] = 0.1 * torch.randn(d, generator=g)
    out["head.weight"] = 0.05 * torch.randn(CLASSES, d, generator=g)
    out["head.bias"] = 0.01 * torch.randn(CLASSES, generator=g)
    return out


def classify(cfg, ft, imgs):
    """The fine-tuned classifier in float64 on all patches: (pooled, logits)."""
    t = {k: v.to(DTYPE) for k, v in ft.items()}
    x = torch.from_numpy(imgs).to(DTYPE)
    w = t["patch_embed.proj.weight"]
    tokens = patches_chw(x, cfg.patch_size) @ w.reshape(w.shape[0], -1).t() + t["patch_embed.proj.bias"]
    tokens = tokens + t["pos_embed"][:, 1:, :]
    cls = (t["cls_token"] + t["pos_embed"][:, :1, :]).expand(x.shape[0], -1, -1)
    h = torch.cat([cls, tokens], dim=1)
    for i in range(cfg.depth):
        blk = Block(cfg.embed_dim, cfg.num_heads, cfg.mlp_ratio)
        blk.load_state_dict({k[len(f"blocks.{i}."):]: v for k, v in t.items() if k.startswith(f"blocks.{i}.")})
        h = blk(h)
    norm = LayerNorm(cfg.embed_dim)
    norm.load_state_dict({"weight": t["fc_norm.weight"], "bias": t["fc_norm.bias"]})
    head = Linear(cfg.embed_dim, CLASSES)
    head.load_state_dict({"weight": t["head.weight"], "bias": t["head.bias"]})
    with torch.no_grad():
        pooled = norm(h[:, 1:, :].mean(dim=1))
        return pooled.numpy().astype(np.float32), head(pooled).numpy().astype(np.float32)


def inputs(cfg):
    rng = np.random.default_rng(SEED + 1)
    imgs = rng.standard_normal((2, cfg.in_chans, cfg.img_size, cfg.img_size), dtype=np.float32)
    while True:
        noise = rng.random((2, cfg.num_patches), dtype=np.float32)
        if all(len(np.unique(r)) == r.size for r in noise):
            return imgs, noise


def photo(out):
    """A small non-square RGB picture and what the official evaluation transform makes of it (PIL, as torchvision)."""
    from PIL import Image
    h, w = 45, 61
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(SEED + 2)
    rgb = np.stack([128 + 100 * np.sin(x / 7), 128 + 90 * np.cos(y / 5), 60 + 2 * x + y], axis=-1) + rng.normal(0, 12, (h, w, 3))
    img = Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")
    img.save(os.path.join(out, "photo.png"))
    size = int(TINY["img_size"] / 0.875)                     # 36: the shorter side
    nw, nh = (int(size * w / h), size) if h <= w else (size, int(size * h / w))
    r = img.resize((nw, nh), Image.BICUBIC)
    s = TINY["img_size"]
    top, left = int(round((nh - s) / 2.0)), int(round((nw - s) / 2.0))
    crop = np.asarray(r.crop((left, top, left + s, top + s)), dtype=np.float32) / 255.0
    safetensors_io.write(os.path.join(out, "expected_preprocess.safetensors"), {"pixels": crop.transpose(2, 0, 1).copy()},
                         {"size": str(s), "resized": f"{nw}x{nh}"})


def numpy_dict(sd):
    return collections.OrderedDict((k, v.numpy()) for k, v in sd.items())


def write_tiny(out):
    cfg, sd = tiny_weights()
    for sub in ("official", "hf", "hf-encoder", "timm"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    encoder = collections.OrderedDict((n, t) for n, t in sd.items() if not is_decoder(n))
    torch.save({"model": sd}, os.path.join(out, "official", "mae_visualize_tiny.pth"))
    torch.save({"model": encoder}, os.path.join(out, "official", "mae_pretrain_tiny.pth"))
    ft = finetuned(sd)
    torch.save({"model": ft}, os.path.join(out, "official", "mae_finetuned_tiny.pth"))
    args = argparse.Namespace(batch_size=64, epochs=800, model="mae_vit_tiny_patch8", input_size=cfg.img_size,
                              mask_ratio=0.75, norm_pix_loss=True, weight_decay=0.05, blr=1.5e-4, warmup_epochs=40)
    torch.save({"model": sd, "epoch": 799, "args": args}, os.path.join(out, "official", "checkpoint-tiny.pth"))

    hf = hf_state_dict(sd)
    safetensors_io.write(os.path.join(out, "hf", "model.safetensors"), numpy_dict(hf), {"format": "pt"})
    torch.save(hf, os.path.join(out, "hf", "pytorch_model.bin"))
    with open(os.path.join(out, "hf", "config.json"), "w") as f:
        json.dump(hf_config(cfg), f, indent=2, sort_keys=True)
        f.write("\n")
    hf_enc = collections.OrderedDict((k[len("vit."):], v) for k, v in hf.items() if k.startswith("vit."))
    safetensors_io.write(os.path.join(out, "hf-encoder", "model.safetensors"), numpy_dict(hf_enc), {"format": "pt"})
    with open(os.path.join(out, "hf-encoder", "config.json"), "w") as f:
        json.dump(dict(hf_config(cfg), architectures=["ViTMAEModel"]), f, indent=2, sort_keys=True)
        f.write("\n")
    safetensors_io.write(os.path.join(out, "timm", "model.safetensors"), numpy_dict(encoder), {"format": "pt"})

    photo(out)
    imgs, noise = inputs(cfg)
    safetensors_io.write(os.path.join(out, "inputs.safetensors"), {"imgs": imgs, "noise": noise}, {"mask_ratio": "0.75"})
    with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, "weights.safetensors")
        safetensors_io.write(w, numpy_dict(sd), cfg.to_metadata())
        run_forward(w, os.path.join(out, "inputs.safetensors"), os.path.join(out, "expected.safetensors"), grads=False)
    pooled, logits = classify(cfg, ft, imgs)
    safetensors_io.write(os.path.join(out, "expected_finetuned.safetensors"), {"pooled": pooled, "logits": logits},
                         {"reference": "make_released_fixtures.py classify (float64)"})
    total = 0
    for root, _, files in sorted(os.walk(out)):
        for name in sorted(files):
            p = os.path.join(root, name)
            total += os.path.getsize(p)
            print(f"{os.path.getsize(p):8d}  {os.path.relpath(p, out)}")
    print(f"{total:8d}  total")


def write_big(family, path):
    """A released-shaped full model with random weights, {'model': state_dict} as mae_visualize_vit_*.pth."""
    p, d, depth, heads = BIG[family]
    dd, ddepth, grid = 512, 8, 224 // p
    g = torch.Generator().manual_seed(0)
    sd = collections.OrderedDict()

    def linear(name, fin, fout):
        sd[name + ".weight"] = torch.randn(fout, fin, generator=g) * 0.02
        sd[name + ".bias"] = torch.zeros(fout)

    def norm(name, width):
        sd[name + ".weight"] = torch.ones(width)
        sd[name + ".bias"] = torch.zeros(width)

    def block(name, width):
        norm(name + ".norm1", width)
        linear(name + ".attn.qkv", width, 3 * width)
        linear(name + ".attn.proj", width, width)
        norm(name + ".norm2", width)
        linear(name + ".mlp.fc1", width, 4 * width)
        linear(name + ".mlp.fc2", 4 * width, width)

    sd["cls_token"] = torch.randn(1, 1, d, generator=g) * 0.02
    sd["pos_embed"] = torch.from_numpy(sincos_2d(d, grid)[None].astype(np.float32))
    sd["patch_embed.proj.weight"] = torch.randn(d, 3, p, p, generator=g) * 0.02
    sd["patch_embed.proj.bias"] = torch.zeros(d)
    for i in range(depth):
        block(f"blocks.{i}", d)
    norm("norm", d)
    linear("decoder_embed", d, dd)
    sd["mask_token"] = torch.randn(1, 1, dd, generator=g) * 0.02
    sd["decoder_pos_embed"] = torch.from_numpy(sincos_2d(dd, grid)[None].astype(np.float32))
    for i in range(ddepth):
        block(f"decoder_blocks.{i}", dd)
    norm("decoder_norm", dd)
    linear("decoder_pred", dd, p * p * 3)
    torch.save({"model": sd}, path)
    n = sum(t.numel() for t in sd.values())
    print(f"{path}: {family}, {len(sd)} tensors, {n:,} values, {os.path.getsize(path):,} bytes (random weights)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--big", choices=sorted(BIG), help="write one released-shaped random full model to --out (a .pth path)")
    a = ap.parse_args()
    if a.big:
        write_big(a.big, a.out)
    else:
        write_tiny(a.out)


if __name__ == "__main__":
    main()
