#!/usr/bin/env bash
# Checks the CUDA kernels WITHOUT a GPU: a small CUDA-on-CPU emulator (emu.h: one std::thread per CUDA thread,
# std::barrier for __syncthreads/__syncwarp, shuffles and mma.sync through per-warp slots, the mma fragment
# layouts written from the PTX ISA tables, dynamic shared memory pre-filled with NaN) runs the real kernel sources
# of kernels/src/main/cuda (prep.py swaps only the inline PTX for emulated calls) against plain-loop references
# in double:
#   t_matmul     SIMT and v2 (TF32/BF16 x nn/nt/tn/tt), odd sizes, K = 0, odd padding (scalar loads), batches
#   t_matmul_vec  the same with leading dimensions a multiple of 4, so that v2's float4 loads run
#   t_matmul_pipe the same on v3 (matmul_pipe_*, cp.async), where every copy is synchronous
#   t_attention  forward, D, dq, dkv for hd 32/64/80/128 at T = 1, 17, 33, 50, 197
#   t_reduce     sum (rows/mid, chunked with atomics), max/argmax with ties and NaN
#   t_rowops     softmax, layer norm forward/backward (dw/db through shared and global atomics)
#   t_pointwise  strided binary, GELU, gather/scatter-add (+ the out-of-range guard), AdamW (bitwise)
# It cannot judge speed, warp-synchronous hazards the emulator hides, or real mma rounding; the cuda tests on a
# GPU (bench/gpu-check.sh) do. Needs g++ >= 12 (C++20 <barrier>) and python3.
#
# usage: run.sh [--sanitize]
#   --sanitize: the same suites built with AddressSanitizer and UndefinedBehaviorSanitizer (-O1 -g,
#               -fno-sanitize-recover=all): out-of-bounds reads and writes of the kernels' buffers, shared
#               memory overruns, signed overflow in index arithmetic. Any report fails the suite.
# Prints one line per suite (ok / FAILED, seconds) and exits non-zero if any suite fails to build or run.
# Wall time, building and running all suites on the shared 2-core VM (it varies with the load there):
# plain 53-91 s, --sanitize 150-158 s (ASan and UBSan roughly double the compile and the run); with t_matmul_vec and
# t_matmul_pipe (2026-12-04) plain 122-169 s, --sanitize 240-307 s.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sanitize=0
case "${1:-}" in
  "") ;;
  --sanitize) sanitize=1 ;;
  *) echo "run.sh: unknown argument $1 (usage: run.sh [--sanitize])" >&2; exit 2 ;;
esac
# -ffp-contract=off: every * and + rounds on its own, as the bitwise AdamW check expects of the host build.
flags=(-std=c++20 -O1 -fno-strict-aliasing -ffp-contract=off -pthread -w)
if [ $sanitize = 1 ]; then
  flags+=(-g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
  # stop at the first report with exit status 1; LeakSanitizer stays on: a leak is a report too
  export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/prep.py" "$here/../../main/cuda" "$tmp/src"
cp "$here"/emu.h "$here"/emu.cpp "$here"/t_*.h "$here"/t_*.cpp "$tmp/"
cd "$tmp"
mode=plain; [ $sanitize = 1 ] && mode=sanitize

suite() {   # builds and runs one suite into $1.log; prints its verdict
  local t=$1 rc=0
  g++ "${flags[@]}" -o "$t" "$t.cpp" emu.cpp > "$t.log" 2>&1 || { echo "FAILED (does not build)"; return; }
  ./"$t" >> "$t.log" 2>&1 || rc=$?
  if [ $rc != 0 ]; then echo "FAILED (exit status $rc)"
  elif grep -q "runtime error:\|Sanitizer" "$t.log"; then echo "FAILED (sanitizer report)"   # one that did not stop it
  else echo ok; fi
}

show_log() {   # a failed suite's log: from the first sanitizer report on (its stack, not the shadow map), else the tail
  local first
  first=$(grep -n -m 1 "ERROR: [A-Za-z]*Sanitizer\|runtime error:" "$1" | cut -d: -f1 || true)
  if [ -n "$first" ]; then echo "---- $1 from line $first:"; sed -n "$first,$((first + 40))p" "$1"
  else echo "---- $1, last 60 lines:"; tail -n 60 "$1"; fi
}

failed=0 start=$SECONDS
suites=(t_matmul t_matmul_vec t_matmul_pipe t_attention t_reduce t_rowops t_pointwise)
for t in "${suites[@]}"; do
  t0=$SECONDS
  verdict=$(suite "$t")
  if [ "$verdict" != ok ]; then failed=$((failed + 1)); show_log "$t.log"; fi
  counts=$(grep -h "failures" "$t.log" || true)
  printf 'emu %s %-13s %-26s %4d s   %s\n' "$mode" "$t" "$verdict" $((SECONDS - t0)) "${counts##*$'\n'}"
done
echo "emu $mode: $((${#suites[@]} - failed)) of ${#suites[@]} suites ok in $((SECONDS - start)) s"
[ $failed = 0 ]
