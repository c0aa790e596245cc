# Turns every kernels/src/main/cuda/*.cu into host C++ for emu.h: CUDA headers -> emu.h, dynamic shared memory -> a
# pointer into the emulator's buffer, the inline PTX (cvt.rna.tf32, mma.sync) -> emulated calls. Nothing else changes.
# usage: prep.py [SRC] DST   (SRC defaults to ../../main/cuda from this file: kernels/src/test/cuda-emu -> main/cuda)
import re, os, sys, glob
if len(sys.argv) == 2:
    src, dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "main", "cuda"), sys.argv[1]
else:
    src, dst = sys.argv[1], sys.argv[2]
sources = glob.glob(src + "/*.cu") + glob.glob(src + "/*.cuh")
# a wrong path would otherwise yield no files and only later, confusing, include errors
if not any(p.endswith(".cu") for p in sources):
    sys.exit("prep.py: no .cu files in " + src)
os.makedirs(dst, exist_ok=True)
for p in sources:
    s = open(p).read()
    s = s.replace("#include <cuda_runtime.h>", '#include "../emu.h"').replace("#include <math_constants.h>", "").replace("#include <cuda_bf16.h>", "")
    s = re.sub(r"extern __shared__ __align__\(16\) float (\w+)\[\];", r"float* \1 = (float*)emu_dyn_smem;", s)
    s = re.sub(r"extern __shared__ float (\w+)\[\];", r"float* \1 = (float*)emu_dyn_smem;", s)
    s = s.replace('asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));', "r = emu_cvt_tf32(x);")
    # cp.async (matmul.cu's v3 candidate): a synchronous copy with the zero fill; commit and wait then have nothing to do
    s = s.replace("unsigned s = (unsigned)__cvta_generic_to_shared(smem);", "")
    s = re.sub(r'asm volatile\("cp\.async\.c[ag]\.shared\.global \[%0\], \[%1\], (\d+), %2;\\n".*?\);', r"emu_cp_async(smem, gmem, \1, bytes);", s, flags=re.S)
    s = re.sub(r'asm volatile\("cp\.async\.(commit_group|wait_group %0);\\n".*?\);', "", s, flags=re.S)
    s = re.sub(r'asm volatile\("mma\.sync\.aligned\.m16n8k8.*?\);', "emu_mma(d, a, b, false);", s, flags=re.S)
    s = re.sub(r'asm volatile\("mma\.sync\.aligned\.m16n8k16.*?\);', "emu_mma(d, a, b, true);", s, flags=re.S)
    assert "asm" not in s or "asm" in "".join(re.findall(r"//.*", s)), p
    # the kernels' extern "C" names would clash with nothing; keep them
    open(os.path.join(dst, os.path.basename(p)), "w").write(s)
