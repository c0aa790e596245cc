#!/usr/bin/env bash
# Checks the CUDA kernels WITHOUT a GPU: a small CUDA-on-CPU emulator (emu.h: one std::thread per CUDA thread,
# std::barrier for __syncthreads/__syncwarp, shuffles and mma.sync through per-warp slots, the mma fragment
# layouts written from the PTX ISA tables, dynamic shared memory pre-filled with NaN) runs the real kernel sources
# (prep.py swaps only the inline PTX for emulated calls) against plain-loop references in double:
#   t_matmul     every matmul variant (SIMT, TF32/BF16 x nn/nt/tn/tt), odd sizes, K = 0, padding, batches
#   t_attention  forward, D, dq, dkv for hd 32/64/80/128 at T = 1, 17, 33, 50, 197
#   t_reduce     sum (rows/mid, chunked with atomics), max/argmax with ties and NaN
#   t_rowops     softmax, layer norm forward/backward (dw/db through shared and global atomics)
#   t_pointwise  strided binary, GELU, gather/scatter-add (+ the out-of-range guard), AdamW (bitwise)
# It cannot judge speed, warp-synchronous hazards the emulator hides, or real mma rounding; the cuda tests on a
# GPU (bench/gpu-check.sh) do. Needs g++ >= 12 (C++20 <barrier>) and python3; about a minute on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/prep.py" "$here/.." "$tmp/src"
cp "$here"/emu.h "$here"/emu.cpp "$here"/t_*.h "$here"/t_*.cpp "$tmp/"
cd "$tmp"
status=0
for t in t_matmul t_attention t_reduce t_rowops t_pointwise; do
  g++ -std=c++20 -O1 -fno-strict-aliasing -ffp-contract=off -pthread -w -o "$t" "$t.cpp" emu.cpp
  ./"$t" || status=1
done
exit $status
