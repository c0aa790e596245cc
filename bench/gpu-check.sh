#!/usr/bin/env bash
# GPU check of the engine on CUDA: the kernels (mae.kernels.cuda), CUDA tensors, the MAE and bin/mae on the GPU,
# then benchmarks. A few minutes on an H100.
#
# 1) Here, on the development machine (JDK, Maven; nvcc not needed: the PTX/cubin are committed):
#        bash bench/gpu-check.sh --pack            (MVN_ARGS="-o ..." is passed to every mvn call)
#    builds every module with its test classes (mvn package: nothing is installed into ~/.m2), copies the mae module's
#    runtime dependencies and the JUnit console launcher, and writes .devicepack/ with ../shared/device/pack.sh
#    (JRE, jars, cuBLAS 12 forwarder). .devicepack is git-ignored: carry it.
# 2) On the GPU machine (no Java, no Maven there), from the repository root:
#        bash bench/gpu-check.sh               (with the device tool: run(command="bash bench/gpu-check.sh", carry=[".devicepack"]))
#    It unpacks the pack's JRE and finds libcublas.so.13 in the CUDA image's known folders (no search of /; set
#    CUBLAS_COMPAT_TARGET to name it). `bash bench/gpu-check.sh --profile` instead prints where a training step's time
#    goes on the GPU, op by op (fmnist batch 128, mae_vit_base_patch16 batch 64), and exits; `--tune` times
#    matmul.cu's v2 and v3 (bench/cuda/matmul_tune.cu, 3 and 4 stages; about 20 s), from builds carried in .tune/
#    (made here with `bash bench/gpu-check.sh --tune-build`) or else built with the machine's nvcc; `--sanitize` runs
#    only the compute-sanitizer step (8, below).
#    First run on an H200 (2026-12-04): about 100-150 s in all; bench/results/2026-12-04-nvidia-h200-gpu-check.md.
#
# What it checks, in order (exit status 0 only if every step succeeds; speeds are reported, not judged). Every step
# has a time cap and none starts past GPU_CHECK_BUDGET seconds (default 480); a step left out says so in the summary.
#   1. Cuda.available() is true and names the GPU; on an H100/H200 the kernels come from the sm_90 cubins, and
#      -Dmae.cuda.ptx=true selects the compute_80 PTX.
#   2. Every kernels test tagged cuda passes (CudaKernelsTest, CudaMatmulTest, CudaAttentionTest, CudaAllocatorTest):
#      successful == found, so a test aborted by its assumption (no GPU, or no cuBLAS: the JCublas 12 ->
#      libcublas.so.13 forwarder) counts as a failure here. Covers every kernel
#      against the CPU reference, matmul TF32/BF16/FP32 in all four transpose layouts (exact on integers, derived
#      bounds on Gaussians) and against cuBLAS, attention for hd 32/64/80/128 at T = 1, 17, 33, 50, 197 (the hd-128
#      backward needs >48 KB of opt-in shared memory), and the allocator's steady state (no cuMemAlloc after the
#      first step).
#   3. The cuda-tagged tests of the tensor layer, the model and the CLI pass (same successful == found rule), run
#      from tests/ so that ../data is the embedded Fashion-MNIST:
#      - mae.tensor.CudaTensorTest: every Tensor and Ops op on CUDA against the CPU (odd sizes, size-1 dims,
#        broadcasts, transposed and rank-5/6 views, batched and transposed matmul, gather/scatter, attention for
#        hd 32/64/80 fused and 16/8 composed, AdamW), host reads, mixed-device errors, workspace-scoped memory
#        (released at scope close; no cuMemAlloc after the first of repeated steps).
#      - mae.model.MaeCudaTest: loss, prediction and every gradient of tiny and fmnist within TF32 tolerance of the
#        CPU; 20 AdamW steps of tiny follow the CPU's per-step losses within 2e-2 relative.
#      - mae.tests.PretrainCudaTest: bin/mae pretrain --device cuda (tiny, 6 steps) logs "device: cuda (<GPU>, sm_XX)",
#        keeps the device in run.json, follows a CPU run's losses, writes a checkpoint the CPU loads; a CPU
#        checkpoint resumes onto the GPU with unchanged weights; bin/mae bench step --device cuda runs.
#   4. GpuBench prints a table of TFLOP/s: our matmul vs cuBLAS (same compute type) at M = 256*50 and 256*197 rows
#      x N, K in {768, 2304, 3072} plus 4096^3, TF32 and BF16, with the max relative error of a sample against
#      cuBLAS FP32 (expect <~ 1e-3 for TF32, <~ 1e-2 for BF16); and attention forward/backward TFLOP/s at T = 50
#      and 197, hd 64.
#   5. bin/mae bench step (forward, backward, AdamW; mask 0.75) on CUDA: images/s for fmnist batch 128 and
#      mae_vit_base_patch16 batch 64 and 256, with the device memory used and the cuMemAlloc calls after warmup
#      (expect 0); then the main job, `bin/mae pretrain` with its defaults on CUDA (1400 steps of fmnist, kNN).
#   6. PyTorch on the same card (the machine's python3, bench/torch_gpu.py): scaled_dot_product_attention at
#      GpuBench's shapes, and the same MAE's training step in eager bf16 autocast (fmnist 128, ViT-B 64 and 256).
#   7. The matmul and attention tests again on the compute_80 PTX path (-Dmae.cuda.ptx=true: driver JIT), the path
#      every non-sm_90 GPU takes.
#   8. compute-sanitizer, where installed: memcheck over CudaKernelsTest, racecheck over CudaAttentionTest and
#      CudaMatmulTest's batched case (v3's shared-memory pipeline over 2 and 7 k tiles).
#   Last, a summary table: each check's result and the images/s figures.
# Logs and JUnit XML go to $OUT (the device tool's folder) or /tmp/gpu-check.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "${1:-}" = "--pack" ]; then
  set -e
  mvn=(mvn -q -B ${MVN_ARGS:-})
  junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)     # 5.x.y -> platform 1.x.y
  platform="1.${junit#5.}"
  lib=target/devicepack-lib
  rm -rf "$lib" && mkdir -p "$lib"
  # Every module's jar and test classes, from the reactor (mvn package; no install into the shared ~/.m2).
  "${mvn[@]}" -DskipTests package dependency:copy-dependencies -pl bench,tests -am \
      -DincludeScope=runtime -DexcludeGroupIds=mae -DoutputDirectory="$root/$lib"
  "${mvn[@]}" dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" \
      -DoutputDirectory="$root/$lib" -Dmdep.overWriteReleases=true
  for m in kernels tensor autograd vit mae bench; do
    cp "$(ls $m/target/*-0.1.0-SNAPSHOT.jar | grep -v -- -tests.jar | head -n 1)" "$lib/"
  done
  for m in kernels tensor mae tests; do jar cf "$lib/$m-tests.jar" -C $m/target/test-classes .; done
  ../shared/device/pack.sh .devicepack "$lib"
  echo "packed; on the GPU machine: bash bench/gpu-check.sh"
  exit 0
fi

tune_variants=("stages3:" "stages4:-DTC_STAGES=4")   # each build times v2 and v3; the second v3 with 4 stages
nv=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
tune_build() {   # "label:flags" folder -> folder/tune-label
  local flags=${1#*:}; "$nv" -std=c++17 -O3 -arch=sm_90 $flags -o "$2/tune-${1%%:*}" bench/cuda/matmul_tune.cu
}
if [ "${1:-}" = "--tune-build" ]; then   # the --tune builds, here, into .tune/ (carry it: run's carry [".tune"])
  mkdir -p .tune
  for v in "${tune_variants[@]}"; do tune_build "$v" .tune || exit 1; done
  echo "built .tune/; on the GPU machine: bash bench/gpu-check.sh --tune"
  exit 0
fi

if [ "${1:-}" = "--tune" ]; then   # matmul.cu's v2 and v3 timed (bench/cuda/matmul_tune.cu), then exit
  out=${OUT:-/tmp/gpu-check}; mkdir -p "$out"
  for v in "${tune_variants[@]}"; do   # carried in .tune/ where that build starts on this machine, else built here
    if [ -x ".tune/tune-${v%%:*}" ] && ".tune/tune-${v%%:*}" --probe > /dev/null 2>&1; then cp ".tune/tune-${v%%:*}" /tmp/; continue; fi
    tune_build "$v" /tmp > "$out/nvcc-${v%%:*}.log" 2>&1 &
  done
  wait
  for v in "${tune_variants[@]}"; do v=${v%%:*}; timeout 120 "/tmp/tune-$v" "$v" || echo "tune $v: FAILED (exit $?)"; done 2>&1 | tee "$out/tune.log"
  exit 0
fi

pack=${DEVICEPACK:-$root/.devicepack}
if [ -z "${JAVA:-}" ]; then   # what ../shared/device/env.sh does, with cuBLAS 13 looked up in known folders only
  [ -f "$pack/jre.txz" ] || { echo "gpu-check: no $pack/jre.txz: run 'bash bench/gpu-check.sh --pack' here first"; exit 2; }
  [ -x /tmp/jre/bin/java ] || tar -C /tmp -xJf "$pack/jre.txz"
  JAVA=/tmp/jre/bin/java
  real=${CUBLAS_COMPAT_TARGET:-$(ls /usr/local/cuda/lib64/libcublas.so.13 /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13 \
      /usr/local/cuda-13*/lib64/libcublas.so.13 /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib/libcublas.so.13 \
      /opt/torch/.venv/lib/python3*/site-packages/nvidia/cublas/lib/libcublas.so.13 /usr/lib/x86_64-linux-gnu/libcublas.so.13 2>/dev/null | head -n 1)}
  if [ -n "$real" ]; then
    export CUBLAS_COMPAT_TARGET=$real LD_LIBRARY_PATH="$pack/cublas12:$(dirname "$real")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "gpu-check: cuBLAS 13 at $real"
  else echo "gpu-check: no libcublas.so.13 in the known folders: the cuBLAS checks will fail (set CUBLAS_COMPAT_TARGET)"; fi
fi
console=$(ls "$pack"/lib/junit-platform-console-standalone-*.jar 2>/dev/null | head -n 1)
[ -n "$console" ] || { echo "gpu-check: no junit-platform-console-standalone jar in $pack/lib; rerun --pack"; exit 2; }
cp=$(ls "$pack"/lib/*.jar | grep -v junit-platform-console-standalone | tr '\n' ':')
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
jvm=(--add-modules jdk.incubator.vector -XX:PerMethodTrapLimit=10000 -XX:PerMethodRecompilationCutoff=10000 -Xmx16g)   # the JIT limits: mae.kernels.JitFlags
status=0
summary=()
note() { summary+=("$(printf '%-48s %s' "$1" "$2")"); }
# A device lease is short: every step gets at most its cap and never runs past GPU_CHECK_BUDGET seconds in all
# (default 480); a step with under 20 s left is not started and says so in the summary.
deadline=$((SECONDS + ${GPU_CHECK_BUDGET:-480}))
cap() {   # step cap in seconds -> seconds this step may run, or nothing when under 20 are left
  local left=$((deadline - SECONDS - 5))
  [ "$left" -ge 20 ] && echo $(( $1 < left ? $1 : left ))
}

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
echo "== gpu-check: $gpu"

if [ "${1:-}" = "--profile" ]; then   # where a GPU step's time goes, op by op (each op synchronised), then exit
  for a in "fmnist 128" "mae_vit_base_patch16 64"; do set -- $a
    echo "== gpu-check: bench step --profile $1 batch $2"
    timeout 120 "$JAVA" "${jvm[@]}" -cp "$cp" mae.cli.Main bench step --config "$1" --batch "$2" --steps 3 --warmup 2 --device cuda --profile 2>&1 \
        | tee "$out/profile-$1.log" | head -n 45
  done
  exit 0
fi

run_tests() {   # name, working directory, cap in seconds, extra JVM flags..., then -- and JUnit selectors
  local name=$1 dir=$2 t; t=$(cap "$3"); shift 3
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  [ -n "$t" ] || { note "tests: $name" "not run (out of time)"; status=1; return; }
  echo "== gpu-check: $name (at most $t s)"
  (cd "$dir" && timeout "$t" "$JAVA" "${jvm[@]}" -Dmae.workspace.poison=true "${flags[@]}" -jar "$console" execute --disable-banner --disable-ansi-colors --details=tree \
      -cp "$cp" --include-tag cuda --reports-dir "$out/junit-$name" "$@") 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  local found=$(sed -n 's/.*\[ *\([0-9]\+\) tests found *\].*/\1/p' "$out/$name.log" | tail -n 1)
  local ok=$(sed -n 's/.*\[ *\([0-9]\+\) tests successful *\].*/\1/p' "$out/$name.log" | tail -n 1)
  # an assumption that fails (no GPU, no cuBLAS) shows as "aborted", a @Disabled test as "skipped": both fail here
  if [ "$rc" = 124 ]; then echo "gpu-check: $name timed out after $t s"; status=1; note "tests: $name" "TIMED OUT after $t s";
  elif [ "$rc" != 0 ]; then echo "gpu-check: $name FAILED (exit $rc)"; status=1; note "tests: $name" "FAILED (${ok:-0} of ${found:-?} successful)";
  elif [ "${found:-0}" = 0 ]; then echo "gpu-check: $name found no tests"; status=1; note "tests: $name" "FAILED (no tests found)";
  elif [ "${ok:-0}" != "$found" ]; then
    echo "gpu-check: $name: only ${ok:-0} of $found tests successful (aborted = no GPU or no cuBLAS): counts as a failure"; status=1
    note "tests: $name" "FAILED (${ok:-0} of $found successful)"
  else echo "gpu-check: $name passed ($found tests)"; note "tests: $name" "passed ($found tests)"; fi
}

sanitizers() {   # 8: compute-sanitizer over the kernel tests, when the machine has it (memcheck, then racecheck on attention and matmul)
  if command -v compute-sanitizer >/dev/null || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
    cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    # racecheck over all of CudaMatmulTest's layouts and sizes ran past 120 s on the H200 (2026-12-04): its
    # batched case (K 64 and 197: 2 and 7 k tiles through v3's pipeline, every version) is the matmul's share
    for run in "memcheck --select-class mae.kernels.cuda.CudaKernelsTest" "racecheck --select-class mae.kernels.cuda.CudaAttentionTest" \
               "racecheck --select-method mae.kernels.cuda.CudaMatmulTest#batched_with_strides_and_padding"; do
      set -- $run; local tool=$1 what=${3##*.} t; what=${what//#/-}; shift
      t=$(cap 120)
      [ -n "$t" ] || { note "compute-sanitizer $tool $what" "not run (out of time)"; continue; }
      echo "== gpu-check: compute-sanitizer --tool $tool, $what (at most $t s)"
      timeout "$t" "$cs" --tool $tool --target-processes all --error-exitcode 9 --print-limit 20 "$JAVA" "${jvm[@]}" -jar "$console" \
          execute --disable-banner --disable-ansi-colors -cp "$cp" --include-tag cuda "$@" > "$out/sanitizer-$tool-$what.log" 2>&1
      local rc=$?; tail -n 15 "$out/sanitizer-$tool-$what.log"
      case $rc in 0) note "compute-sanitizer $tool $what" "no errors";; 124) note "compute-sanitizer $tool $what" "timed out after $t s (partial log)";;
        *) note "compute-sanitizer $tool $what" "FAILED (exit $rc)"; status=1;; esac
    done
  else note "compute-sanitizer" "not on this machine"; fi
}

finish() {
  echo
  echo "== gpu-check summary: $gpu"
  for line in "${summary[@]}"; do echo "$line"; done
  echo "== gpu-check: $([ $status = 0 ] && echo ALL PASSED || echo FAILURES above); logs in $out"
  exit $status
}
[ "${1:-}" = "--sanitize" ] && { sanitizers; finish; }   # only step 8 (a short lease)

# 1: the device, the kernels' source (cubin or PTX), cuBLAS through the forwarder
echo "== gpu-check: probe"
if timeout 60 "$JAVA" "${jvm[@]}" -cp "$cp" mae.bench.GpuBench --probe; then note "probe" "ok"; else echo "gpu-check: probe FAILED"; status=1; note "probe" "FAILED"; fi
if timeout 60 "$JAVA" "${jvm[@]}" -Dmae.cuda.ptx=true -cp "$cp" mae.bench.GpuBench --probe | grep -q "compute_80 PTX"; then note "probe -Dmae.cuda.ptx=true" "ok (compute_80 PTX)"
else echo "gpu-check: -Dmae.cuda.ptx=true did not select the PTX"; status=1; note "probe -Dmae.cuda.ptx=true" "FAILED"; fi
# 2: all kernels cuda tests on the default path (sm_90 cubin on H100/H200)
# (classes named one by one: the packed JRE has no jdk.zipfs, so JUnit cannot scan a package inside a jar)
run_tests cuda-tests . 150 -- --select-class mae.kernels.cuda.CudaKernelsTest --select-class mae.kernels.cuda.CudaMatmulTest \
    --select-class mae.kernels.cuda.CudaAttentionTest --select-class mae.kernels.cuda.CudaAllocatorTest
# 3: tensors, the model and the CLI on CUDA, from tests/ (PretrainTest's data path is ../data/fashion-mnist)
run_tests cuda-tensor-model-cli tests 150 -- --select-class mae.tensor.CudaTensorTest \
    --select-class mae.model.MaeCudaTest --select-class mae.tests.PretrainCudaTest

# 4: kernel benchmark (its own table)
t=$(cap 120)
if [ -n "$t" ]; then
  echo "== gpu-check: GpuBench (at most $t s)"
  timeout "$t" "$JAVA" "${jvm[@]}" -cp "$cp" mae.bench.GpuBench "$@" 2>&1 | tee "$out/gpubench.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then note "GpuBench" "ok (table in gpubench.log)"; else echo "gpu-check: GpuBench FAILED"; status=1; note "GpuBench" "FAILED"; fi
else note "GpuBench" "not run (out of time)"; status=1; fi

# 5: the training step, images/s (the last line of each bench is "images/s: X")
bench_step() {   # label, cap in seconds, then bin/mae bench step arguments
  local label=$1 t; t=$(cap "$2"); shift 2
  [ -n "$t" ] || { note "bench step $label" "not run (out of time)"; status=1; return; }
  local log="$out/bench-$(echo "$label" | tr ' /' '__').log"
  echo "== gpu-check: bench step $label (at most $t s)"
  timeout "$t" "$JAVA" "${jvm[@]}" -cp "$cp" mae.cli.Main bench step "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} ips
  ips=$(sed -n 's/^images\/s: \(.*\)$/\1/p' "$log" | tail -n 1)
  if [ "$rc" = 0 ] && [ -n "$ips" ]; then
    local mem=$(sed -n 's/^device memory: peak \([0-9.]* GB\) in use.*calls during the timed steps: \([0-9]*\)$/, peak \1, cuMemAlloc after warmup \2/p' "$log")
    note "bench step $label" "$ips images/s$mem"
  else echo "gpu-check: bench step $label FAILED (exit $rc)"; status=1; note "bench step $label" "FAILED (exit $rc)"; fi
}
bench_step "fmnist b128 cuda" 60 --config fmnist --batch 128 --steps 20 --warmup 3 --device cuda
bench_step "mae_vit_base_patch16 b64 cuda" 90 --config mae_vit_base_patch16 --batch 64 --steps 5 --warmup 2 --device cuda
bench_step "mae_vit_base_patch16 b256 cuda" 90 --config mae_vit_base_patch16 --batch 256 --steps 3 --warmup 1 --device cuda

# 5b: the main job (bin/mae pretrain's defaults: fmnist, 1400 steps, batch 64, then kNN) on CUDA, end to end
t=$(cap 150)
if [ -n "$t" ]; then
  echo "== gpu-check: pretrain --device cuda, the defaults (at most $t s)"
  rm -rf "$out/pretrain-run"
  (cd tests && timeout "$t" "$JAVA" "${jvm[@]}" -Dmae.home="$out/pretrain-home" -cp "$cp" mae.cli.Main pretrain --device cuda \
      --data ../data/fashion-mnist --out "$out/pretrain-run" --no-progress) 2>&1 | tee "$out/pretrain.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then note "pretrain --device cuda (defaults)" "$(grep -o '^done: .*' "$out/pretrain.log"); $(grep -o 'pretrained [0-9.]* vs random-init encoder [0-9.]*' "$out/pretrain.log")"
  else echo "gpu-check: pretrain FAILED"; status=1; note "pretrain --device cuda (defaults)" "FAILED"; fi
  rm -rf "$out/pretrain-run/checkpoints"
else note "pretrain --device cuda (defaults)" "not run (out of time)"; status=1; fi

# 6: PyTorch on the same card (the machine's python3): SDPA and the same model's bf16-autocast eager step
t=$(cap 150)
if [ -n "$t" ] && command -v python3 >/dev/null; then
  echo "== gpu-check: PyTorch baseline (at most $t s)"
  PYTHONUNBUFFERED=1 timeout "$t" python3 bench/torch_gpu.py 2>&1 | tee "$out/torch.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then note "PyTorch baseline" "ok (torch.log)"
    while read -r l; do note "  $(echo "$l" | sed 's/ bf16-autocast eager:.*//')" "$(echo "$l" | sed 's/.*eager: \([0-9.]* images\/s\).*peak \([0-9.]* GB\).*/\1, peak \2/')"; done < <(grep '^torch step' "$out/torch.log")
  else echo "gpu-check: PyTorch baseline FAILED"; status=1; note "PyTorch baseline" "FAILED"; fi
else note "PyTorch baseline" "not run (out of time or no python3)"; status=1; fi

# 7: the heavy kernels again from the compute_80 PTX (driver JIT), the path every non-sm_90 GPU takes
run_tests cuda-tests-ptx . 90 -Dmae.cuda.ptx=true -- --select-class mae.kernels.cuda.CudaMatmulTest \
    --select-class mae.kernels.cuda.CudaAttentionTest

# 8: compute-sanitizer (above)
sanitizers
finish
