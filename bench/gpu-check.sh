#!/usr/bin/env bash
# GPU check of the CUDA kernels (mae.kernels.cuda): the cuda-tagged tests, then a short benchmark. A few minutes.
#
# 1) Here, on the development machine (JDK, Maven; nvcc not needed: the PTX/cubin are committed):
#        bash bench/gpu-check.sh --pack
#    builds the kernels module and its tests, fetches the JUnit console launcher, and writes .devicepack/ with
#    ../shared/device/pack.sh (JRE, jars, cuBLAS 12 forwarder). .devicepack is git-ignored: carry it.
# 2) On the GPU machine (no Java, no Maven there), from the repository root:
#        source .devicepack/env.sh; bash bench/gpu-check.sh
#    (with the device tool: run(command="source .devicepack/env.sh; bash bench/gpu-check.sh", carry=[".devicepack"]))
#
# What it checks, in order (exit status 0 only if 1-3 hold):
#   1. Cuda.available() is true and names the GPU; on an H100/H200 the kernels come from the sm_90 cubins.
#   2. Every test tagged cuda passes (CudaKernelsTest, CudaMatmulTest, CudaAttentionTest, CudaAllocatorTest):
#      successful == found, so a test aborted by its assumption (no GPU, or no cuBLAS: the JCublas 12 ->
#      libcublas.so.13 forwarder) counts as a failure here. Covers every kernel against the CPU reference, matmul TF32/BF16/FP32 in all four
#      transpose layouts (exact on integers, derived bounds on Gaussians) and against cuBLAS, attention for
#      hd 32/64/80/128 at T = 1, 17, 33, 50, 197 (the hd-128 backward needs >48 KB of opt-in shared memory),
#      and the allocator's steady state (no cuMemAlloc after the first step).
#   3. The matmul and attention tests pass again on the compute_80 PTX path (-Dmae.cuda.ptx=true: driver JIT),
#      the path every non-sm_90 GPU takes.
#   4. GpuBench prints, last, a table of TFLOP/s: our matmul vs cuBLAS (same compute type) at M = 256*50 and
#      256*197 rows x N, K in {768, 2304, 3072} plus 4096^3, TF32 and BF16, with the max relative error of a
#      sample against cuBLAS FP32 (expect <~ 1e-3 for TF32, <~ 1e-2 for BF16); and attention forward/backward
#      TFLOP/s at T = 50 and 197, hd 64. Speed is reported, not judged.
# Logs and JUnit XML go to $OUT (the device tool's folder) or /tmp/gpu-check.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "${1:-}" = "--pack" ]; then
  set -e
  junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)     # 5.x.y -> platform 1.x.y
  platform="1.${junit#5.}"
  lib=kernels/target/devicepack-lib
  rm -rf "$lib" && mkdir -p "$lib"
  mvn -q -pl kernels install -DskipTests
  mvn -q -pl kernels dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$root/$lib"
  mvn -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" \
      -DoutputDirectory="$root/$lib" -Dmdep.overWriteReleases=true
  cp kernels/target/kernels-*.jar "$lib/"
  rm -f "$lib"/kernels-*-tests.jar
  jar cf "$lib/kernels-tests.jar" -C kernels/target/test-classes .
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
jvm=(--add-modules jdk.incubator.vector -Xmx16g)
status=0

echo "== gpu-check: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"

run_tests() {   # name, extra JVM flags..., then -- and JUnit selectors
  local name=$1; shift
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  echo "== gpu-check: $name"
  "$JAVA" "${jvm[@]}" "${flags[@]}" -jar "$console" execute --disable-banner --disable-ansi-colors --details=tree \
      -cp "$cp" --include-tag cuda --reports-dir "$out/junit-$name" "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  local found=$(sed -n 's/.*\[ *\([0-9]\+\) tests found *\].*/\1/p' "$out/$name.log" | tail -n 1)
  local ok=$(sed -n 's/.*\[ *\([0-9]\+\) tests successful *\].*/\1/p' "$out/$name.log" | tail -n 1)
  # an assumption that fails (no GPU, no cuBLAS) shows as "aborted", a @Disabled test as "skipped": both fail here
  if [ "$rc" != 0 ]; then echo "gpu-check: $name FAILED (exit $rc)"; status=1;
  elif [ "${found:-0}" = 0 ]; then echo "gpu-check: $name found no tests"; status=1;
  elif [ "${ok:-0}" != "$found" ]; then
    echo "gpu-check: $name: only ${ok:-0} of $found tests successful (aborted = no GPU or no cuBLAS): counts as a failure"; status=1;
  else echo "gpu-check: $name passed ($found tests)"; fi
}

# 1: the device, the kernels' source (cubin or PTX), cuBLAS through the forwarder
echo "== gpu-check: probe"
"$JAVA" "${jvm[@]}" -cp "$cp" mae.kernels.cuda.GpuBench --probe || { echo "gpu-check: probe FAILED"; status=1; }
"$JAVA" "${jvm[@]}" -Dmae.cuda.ptx=true -cp "$cp" mae.kernels.cuda.GpuBench --probe | grep -q "compute_80 PTX" \
    || { echo "gpu-check: -Dmae.cuda.ptx=true did not select the PTX"; status=1; }
# 2: all cuda tests on the default path (sm_90 cubin on H100/H200)
run_tests cuda-tests -- --select-package mae.kernels.cuda
# 3: the heavy kernels again from the compute_80 PTX (driver JIT)
run_tests cuda-tests-ptx -Dmae.cuda.ptx=true -- --select-class mae.kernels.cuda.CudaMatmulTest \
    --select-class mae.kernels.cuda.CudaAttentionTest

# 4: benchmark, table last
echo "== gpu-check: GpuBench"
timeout 600 "$JAVA" "${jvm[@]}" -cp "$cp" mae.kernels.cuda.GpuBench "$@" 2>&1 | tee "$out/gpubench.log"
[ "${PIPESTATUS[0]}" = 0 ] || { echo "gpu-check: GpuBench FAILED"; status=1; }

echo "== gpu-check: $([ $status = 0 ] && echo ALL PASSED || echo FAILURES above); logs in $out"
exit $status
