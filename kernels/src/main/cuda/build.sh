#!/usr/bin/env bash
# Builds the CUDA kernels of mae.kernels into class-path resources, for a machine without nvcc to load:
#   <family>.sm_80.ptx    PTX for compute_80 (any GPU of compute capability >= 8.0 JIT-compiles it at load)
#   <family>.sm_90.cubin  machine code for sm_90 (H100/H200), loaded as is
#   SOURCES.sha256        sha256 of every source it was built from (*.cu, *.cuh, this script)
# and the ptxas resource report of every kernel (-Xptxas -v: registers, shared memory, spills) into PTXAS.txt.
#
# usage: build.sh [--force] [--ptx-only] [--out DIR]
#   default: skips the work when SOURCES.sha256 in the output matches the sources and every output exists.
#   --ptx-only --out DIR: only the PTX, into DIR (CudaBuildTest uses this to check the committed PTX).
# No nvcc on PATH (or $NVCC): prints "nvcc not found, skipping CUDA build" and exits 0: never a build failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/../resources/mae/kernels/cuda"
force=0 ptxonly=0 custom_out=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --ptx-only) ptxonly=1 ;;
    --out) out=$2; custom_out=1; shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
NVCC=${NVCC:-nvcc}
if ! command -v "$NVCC" >/dev/null 2>&1; then
  echo "nvcc not found, skipping CUDA build"
  exit 0
fi
# No --use_fast_math: erff, expf, '/' and sqrtf keep their full precision (the tests compare with the CPU).
# No -lineinfo: it writes absolute source paths into the PTX, which would then differ between checkouts.
FLAGS=(-std=c++17 -O3)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"
families=$(ls *.cu | sed 's/\.cu$//' | sort)
manifest=$(sha256sum $(ls *.cu *.cuh build.sh | sort))

if [ $force = 0 ] && [ $ptxonly = 0 ] && [ -f "$out/SOURCES.sha256" ] && [ "$manifest" = "$(cat "$out/SOURCES.sha256")" ]; then
  missing=0
  for f in $families; do [ -s "$out/$f.sm_80.ptx" ] && [ -s "$out/$f.sm_90.cubin" ] || missing=1; done
  if [ $missing = 0 ]; then echo "CUDA resources up to date ($(echo $families | wc -w) families, $("$NVCC" --version | tail -n 1))"; exit 0; fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build_one() {   # family -> PTX, cubin, ptxas report in $tmp
  local f=$1
  "$NVCC" "${FLAGS[@]}" -ptx -gencode=arch=compute_80,code=compute_80 -o "$tmp/$f.sm_80.ptx" "$f.cu"
  [ $ptxonly = 1 ] && return 0
  "$NVCC" "${FLAGS[@]}" -cubin -gencode=arch=compute_90,code=sm_90 -Xptxas -v -o "$tmp/$f.sm_90.cubin" "$f.cu" \
    2> "$tmp/$f.ptxas"
}
export -f build_one; export NVCC tmp ptxonly
export FLAGS_STR="${FLAGS[*]}"
# two at a time: the attention and matmul templates take a few seconds each
status=0
echo $families | tr ' ' '\n' | xargs -P "${JOBS:-2}" -I{} bash -c 'FLAGS=($FLAGS_STR); build_one {}' || status=$?
if [ $status != 0 ]; then echo "build.sh: nvcc failed" >&2; exit 1; fi

for f in $families; do
  cp "$tmp/$f.sm_80.ptx" "$out/"
  [ $ptxonly = 1 ] || cp "$tmp/$f.sm_90.cubin" "$out/"
done
if [ $ptxonly = 0 ]; then
  report="$here/PTXAS.txt"; [ $custom_out = 1 ] && report="$out/PTXAS.txt"
  {
    echo "# ptxas -v for sm_90 ($("$NVCC" --version | tail -n 1)), flags: ${FLAGS[*]}. Written by build.sh."
    echo "# Per kernel: registers per thread, static shared memory (dynamic comes on top at launch), spills."
    for f in $families; do
      echo
      echo "## $f.cu"
      # one line per kernel: name, then its figures
      awk '/Compiling entry function/ { match($0, /'"'"'[^'"'"']*'"'"'/); name = substr($0, RSTART + 1, RLENGTH - 2) }
           /bytes stack frame/ { sub(/^[ \t]+/, ""); frame = $0 }
           /Used [0-9]+ registers/ { sub(/.*: /, ""); printf "%-32s %s; %s\n", name, $0, frame }' "$tmp/$f.ptxas" | sort
    done
  } > "$report"
  echo "$manifest" > "$out/SOURCES.sha256"
  echo "built $(echo $families | wc -w) CUDA families into $out ($("$NVCC" --version | tail -n 1)); ptxas report: $report"
else
  echo "built PTX of $(echo $families | wc -w) CUDA families into $out"
fi
