// One fused AdamW step over flat parameter, gradient and moment buffers: the CUDA twin of mae.kernels.AdamW.step,
// in PyTorch's order of operations:
//   p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
// The host computes stepSize = lr/bc1, bc2Sqrt = sqrt(1 - b2^t) and decay = 1 - lr*wd exactly as the CPU does.
// Every product and sum is written with the _rn intrinsics so that nvcc cannot contract them into FMAs: each
// operation then rounds once, like Java's float arithmetic, and the result matches the CPU bit for bit
// (sqrtf and '/' are IEEE-rounded under nvcc's defaults, -prec-sqrt=true -prec-div=true).
#include "common.cuh"

extern "C" __global__ void adamw_step_f32(float* p, const float* g, float* m, float* v, long long n,
                                          float beta1, float beta2, float eps,
                                          float stepSize, float bc2Sqrt, float decay) {
    float omb1 = 1.f - beta1, omb2 = 1.f - beta2;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float gi = g[i];
        float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(omb1, gi));
        float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(omb2, gi), gi));
        m[i] = mi;
        v[i] = vi;
        float denom = __fadd_rn(sqrtf(vi) / bc2Sqrt, eps);
        p[i] = __fsub_rn(__fmul_rn(p[i], decay), __fmul_rn(stepSize, mi) / denom);
    }
}
