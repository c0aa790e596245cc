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
#        source .devicepack/env.sh; bash bench/gpu-check.sh
#    (with the device tool: run(command="source .devicepack/env.sh; bash bench/gpu-check.sh", carry=[".devicepack"]))
#
# What it checks, in order (exit status 0 only if every step succeeds; speeds are reported, not judged):
#   1. Cuda.available() is true and names the GPU; on an H100/H200 the kernels come from the sm_90 cubins, and
#      -Dmae.cuda.ptx=true selects the compute_80 PTX.
#   2. Every kernels test tagged cuda passes (CudaKernelsTest, CudaMatmulTest, CudaAttentionTest, CudaAllocatorTest):
#      successful == found, so a test aborted by its assumption (no GPU, or no cuBLAS: the JCublas 12 ->
#      libcublas.so.13 forwarder) counts as a failure here. Covers every kernel
#      against the CPU reference, matmul TF32/BF16/FP32 in all four transpose layouts (exact on integers, derived
#      bounds on Gaussians) and against cuBLAS, attention for hd 32/64/80/128 at T = 1, 17, 33, 50, 197 (the hd-128
#      backward needs >48 KB of opt-in shared memory), and the allocator's steady state (no cuMemAlloc after the
#      first step).
#   3. The matmul and attention tests pass again on the compute_80 PTX path (-Dmae.cuda.ptx=true: driver JIT),
#      the path every non-sm_90 GPU takes.
#   4. The cuda-tagged tests of the tensor layer, the model and the CLI pass (same successful == found rule), run
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
#   5. GpuBench prints a table of TFLOP/s: our matmul vs cuBLAS (same compute type) at M = 256*50 and 256*197 rows
#      x N, K in {768, 2304, 3072} plus 4096^3, TF32 and BF16, with the max relative error of a sample against
#      cuBLAS FP32 (expect <~ 1e-3 for TF32, <~ 1e-2 for BF16); and attention forward/backward TFLOP/s at T = 50
#      and 197, hd 64. Speed is reported, not judged.
#   6. bin/mae bench step (forward, backward, AdamW; mask 0.75) runs and prints images/s for fmnist batch 128 on the
#      CPU (the baseline, 3 steps) and on CUDA, and for mae_vit_base_patch16 batch 64 on CUDA, with the device
#      memory it used and the cuMemAlloc calls made after warmup (expect 0).
#   Last, a summary table: each check's result and the three images/s figures.
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
  echo "packed; on the GPU machine: source .devicepack/env.sh; bash bench/gpu-check.sh"
  exit 0
fi

: "${JAVA:?run 'source .devicepack/env.sh' first (it sets JAVA and DEVICEPACK_CP)}"
pack=${DEVICEPACK:-$root/.devicepack}
console=$(ls "$pack"/lib/junit-platform-console-standalone-*.jar 2>/dev/null | head -n 1)
[ -n "$console" ] || { echo "gpu-check: no junit-platform-console-standalone jar in $pack/lib; rerun --pack"; exit 2; }
cp=$(ls "$pack"/lib/*.jar | grep -v junit-platform-console-standalone | tr '\n' ':')
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
jvm=(--add-modules jdk.incubator.vector -XX:PerMethodTrapLimit=10000 -XX:PerMethodRecompilationCutoff=10000 -Xmx16g)   # the JIT limits: mae.kernels.JitFlags
status=0
summary=()
note() { summary+=("$(printf '%-48s %s' "$1" "$2")"); }

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
echo "== gpu-check: $gpu"

run_tests() {   # name, working directory, extra JVM flags..., then -- and JUnit selectors
  local name=$1 dir=$2; shift 2
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  echo "== gpu-check: $name"
  (cd "$dir" && "$JAVA" "${jvm[@]}" -Dmae.workspace.poison=true "${flags[@]}" -jar "$console" execute --disable-banner --disable-ansi-colors --details=tree \
      -cp "$cp" --include-tag cuda --reports-dir "$out/junit-$name" "$@") 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  local found=$(sed -n 's/.*\[ *\([0-9]\+\) tests found *\].*/\1/p' "$out/$name.log" | tail -n 1)
  local ok=$(sed -n 's/.*\[ *\([0-9]\+\) tests successful *\].*/\1/p' "$out/$name.log" | tail -n 1)
  # an assumption that fails (no GPU, no cuBLAS) shows as "aborted", a @Disabled test as "skipped": both fail here
  if [ "$rc" != 0 ]; then echo "gpu-check: $name FAILED (exit $rc)"; status=1; note "tests: $name" "FAILED (${ok:-0} of ${found:-?} successful)";
  elif [ "${found:-0}" = 0 ]; then echo "gpu-check: $name found no tests"; status=1; note "tests: $name" "FAILED (no tests found)";
  elif [ "${ok:-0}" != "$found" ]; then
    echo "gpu-check: $name: only ${ok:-0} of $found tests successful (aborted = no GPU or no cuBLAS): counts as a failure"; status=1
    note "tests: $name" "FAILED (${ok:-0} of $found successful)"
  else echo "gpu-check: $name passed ($found tests)"; note "tests: $name" "passed ($found tests)"; fi
}

# 1: the device, the kernels' source (cubin or PTX), cuBLAS through the forwarder
echo "== gpu-check: probe"
if "$JAVA" "${jvm[@]}" -cp "$cp" mae.bench.GpuBench --probe; then note "probe" "ok"; else echo "gpu-check: probe FAILED"; status=1; note "probe" "FAILED"; fi
if "$JAVA" "${jvm[@]}" -Dmae.cuda.ptx=true -cp "$cp" mae.bench.GpuBench --probe | grep -q "compute_80 PTX"; then note "probe -Dmae.cuda.ptx=true" "ok (compute_80 PTX)"
else echo "gpu-check: -Dmae.cuda.ptx=true did not select the PTX"; status=1; note "probe -Dmae.cuda.ptx=true" "FAILED"; fi
# 2: all kernels cuda tests on the default path (sm_90 cubin on H100/H200)
# (classes named one by one: the packed JRE has no jdk.zipfs, so JUnit cannot scan a package inside a jar)
run_tests cuda-tests . -- --select-class mae.kernels.cuda.CudaKernelsTest --select-class mae.kernels.cuda.CudaMatmulTest \
    --select-class mae.kernels.cuda.CudaAttentionTest --select-class mae.kernels.cuda.CudaAllocatorTest
# 3: the heavy kernels again from the compute_80 PTX (driver JIT)
run_tests cuda-tests-ptx . -Dmae.cuda.ptx=true -- --select-class mae.kernels.cuda.CudaMatmulTest \
    --select-class mae.kernels.cuda.CudaAttentionTest
# 4: tensors, the model and the CLI on CUDA, from tests/ (PretrainTest's data path is ../data/fashion-mnist)
run_tests cuda-tensor-model-cli tests -- --select-class mae.tensor.CudaTensorTest \
    --select-class mae.model.MaeCudaTest --select-class mae.tests.PretrainCudaTest

# 5: kernel benchmark (its own table)
echo "== gpu-check: GpuBench"
timeout 600 "$JAVA" "${jvm[@]}" -cp "$cp" mae.bench.GpuBench "$@" 2>&1 | tee "$out/gpubench.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then note "GpuBench" "ok (table in gpubench.log)"; else echo "gpu-check: GpuBench FAILED"; status=1; note "GpuBench" "FAILED"; fi

# 6: the training step, images/s (the last line of each bench is "images/s: X")
bench_step() {   # label, then bin/mae bench step arguments
  local label=$1; shift
  local log="$out/bench-$(echo "$label" | tr ' /' '__').log"
  echo "== gpu-check: bench step $label"
  timeout 300 "$JAVA" "${jvm[@]}" -cp "$cp" mae.cli.Main bench step "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} ips
  ips=$(sed -n 's/^images\/s: \(.*\)$/\1/p' "$log" | tail -n 1)
  if [ "$rc" = 0 ] && [ -n "$ips" ]; then
    local mem=$(sed -n 's/^device memory: peak \([0-9.]* GB\) in use.*calls during the timed steps: \([0-9]*\)$/, peak \1, cuMemAlloc after warmup \2/p' "$log")
    note "bench step $label" "$ips images/s$mem"
  else echo "gpu-check: bench step $label FAILED (exit $rc)"; status=1; note "bench step $label" "FAILED (exit $rc)"; fi
}
bench_step "fmnist b128 cpu" --config fmnist --batch 128 --steps 3 --warmup 1 --device cpu
bench_step "fmnist b128 cuda" --config fmnist --batch 128 --steps 20 --warmup 3 --device cuda
bench_step "mae_vit_base_patch16 b64 cuda" --config mae_vit_base_patch16 --batch 64 --steps 5 --warmup 2 --device cuda

echo
echo "== gpu-check summary: $gpu"
for line in "${summary[@]}"; do echo "$line"; done
echo "== gpu-check: $([ $status = 0 ] && echo ALL PASSED || echo FAILURES above); logs in $out"
exit $status
