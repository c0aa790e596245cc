#!/usr/bin/env python3
"""PyTorch's side of bench/gpu-check.sh on the same GPU: the baselines our CUDA path is compared with.

  python3 bench/torch_gpu.py [--quick] [--device cuda]

1. scaled_dot_product_attention forward and backward at GpuBench's shapes ((256, 12, T, 64), T = 50 and 197),
   FP32 and BF16, in TFLOP/s by GpuBench's convention (forward 4 BH T^2 hd, backward 2.5x that): median of CUDA
   event timings of 10 calls after 3 warm-ups, 5 times.
2. The MAE pretraining step of tests/reference/mae_reference.py's model (forward, backward, AdamW(0.9, 0.95,
   wd 0.05), zero grads; mask 0.75), eager, float32 weights under bf16 autocast, with F.linear, F.layer_norm,
   F.gelu and scaled_dot_product_attention swapped in: fmnist batch 128, mae_vit_base_patch16 batch 64 and 256.
   Median images/s over the timed steps (each step synchronised), and the peak device memory.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from mae_configs import config, ref  # noqa: E402


def event_ms(fn, calls=10, warmup=3, repeats=5):
    """Median over `repeats` of the mean milliseconds per call, by CUDA events around `calls` calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(calls):
            fn()
        b.record()
        b.synchronize()
        out.append(a.elapsed_time(b) / calls)
    return statistics.median(out)


def attention(dev):
    print(f"{'attention (SDPA)':<28} {'prec':<5} {'fwd ms':>8} {'fwd TF/s':>9} {'bwd ms':>8} {'bwd TF/s':>9}")
    for T in (50, 197):
        for dt, name in ((torch.float32, "FP32"), (torch.bfloat16, "BF16")):
            g = torch.Generator(device=dev).manual_seed(T)
            q, k, v = (torch.randn(256, 12, T, 64, device=dev, dtype=dt, generator=g).requires_grad_() for _ in range(3))
            o = F.scaled_dot_product_attention(q, k, v)
            do = torch.randn_like(o)
            fwd = event_ms(lambda: F.scaled_dot_product_attention(q, k, v))
            bwd = event_ms(lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True))
            flop = 4.0 * 256 * 12 * T * T * 64
            print(f"{'BH 3072 T %d hd 64' % T:<28} {name:<5} {fwd:8.3f} {flop / fwd / 1e9:9.1f} {bwd:8.3f} "
                  f"{2.5 * flop / bwd / 1e9:9.1f}")


def sdpa_attention(self, x):
    n, t, d = x.shape
    qkv = self.qkv(x).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
    return self.proj(F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).reshape(n, t, d))


def random_masking(self, x, noise, len_keep):
    """mae_reference's masking with the mask made on x's device."""
    n, L, d = x.shape
    ids_shuffle = torch.sort(noise, dim=1, stable=True).indices
    ids_restore = torch.sort(ids_shuffle, dim=1, stable=True).indices
    x_vis = torch.gather(x, 1, ids_shuffle[:, :len_keep, None].expand(-1, -1, d))
    mask = torch.ones(n, L, dtype=x.dtype, device=x.device)
    mask[:, :len_keep] = 0
    return x_vis, torch.gather(mask, 1, ids_restore), ids_restore


def idiomatic():
    ref.layer_norm = lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b, ref.LN_EPS)
    ref.gelu_erf = F.gelu
    ref.Linear.forward = lambda self, x: F.linear(x, self.weight, self.bias)
    ref.Attention.forward = sdpa_attention
    ref.MAE.random_masking = random_masking


def step(dev, name, batch, steps, warmup):
    cfg = config(name)
    model = ref.MAE(cfg)
    model.init_weights(0)
    model = model.float().to(dev)
    params = [p for n, p in model.named_parameters() if n not in ref.FROZEN]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.05)
    g = torch.Generator(device=dev).manual_seed(2)
    imgs = torch.randn(batch, cfg.in_chans, cfg.img_size, cfg.img_size, device=dev, generator=g)
    torch.cuda.reset_peak_memory_stats(dev)
    ips = []
    for i in range(warmup + steps):
        noise = torch.rand(batch, cfg.num_patches, device=dev, generator=g)
        torch.cuda.synchronize(dev)
        t = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(imgs, noise, 0.75)[0]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize(dev)
        if i >= warmup:
            ips.append(batch / (time.perf_counter() - t))
    peak = torch.cuda.max_memory_allocated(dev) / 1e9
    print(f"torch step {name} batch {batch} bf16-autocast eager: {statistics.median(ips):.1f} images/s "
          f"(median of {steps}, min {min(ips):.1f} max {max(ips):.1f}), peak {peak:.2f} GB, loss {loss.item():.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer steps, no batch 256")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    dev = torch.device(a.device)
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(dev)}")
    attention(dev)
    idiomatic()
    step(dev, "fmnist", 128, 10 if a.quick else 20, 3)
    step(dev, "mae_vit_base_patch16", 64, 5 if a.quick else 10, 2)
    if not a.quick:
        step(dev, "mae_vit_base_patch16", 256, 5, 2)


if __name__ == "__main__":
    main()
