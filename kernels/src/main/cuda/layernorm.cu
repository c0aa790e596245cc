// Layer norm over the last axis of a contiguous (rows, C) buffer with weight and bias (C): the CUDA twin of
// mae.kernels.LayerNorm. Mean and variance in two passes over the row, as the CPU (no E[x^2] - E[x]^2).
#include "common.cuh"

// out (rows, C) = (x - mean) * rstd * w + b; mean (rows), rstd (rows) saved for backward.
// One warp per row, 8 rows per 256-thread block.
extern "C" __global__ void __launch_bounds__(256) layernorm_forward_f32(float* out, float* mean, float* rstd,
                                                                        const float* x, const float* w, const float* b,
                                                                        int rows, int C, float eps) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* xr = x + r * C;
    float s = 0.f;
    for (int c = lane; c < C; c += 32) s += xr[c];
    float m = warp_sum(s) / C;
    float v = 0.f;
    for (int c = lane; c < C; c += 32) { float d = xr[c] - m; v += d * d; }
    float rs = 1.f / sqrtf(warp_sum(v) / C + eps);   // IEEE sqrt and divide, not the 2-ulp rsqrtf
    float* yr = out + r * C;
    for (int c = lane; c < C; c += 32) yr[c] = (xr[c] - m) * rs * w[c] + b[c];
    if (lane == 0) { mean[r] = m; rstd[r] = rs; }
}

// The gradients, as LayerNorm.backward:
//   dx (rows, C) = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * w (written, not added to);
//   dw (C) += sum over rows of dout * xhat;  db (C) += sum over rows of dout (added to).
// dx, dw and db may each be null. Block (256) = 8 warps, one row per warp at a time, striding over rows by
// 8 * gridDim.x. Each block sums its rows' dw, db in shared memory (dynamic, 2 * C floats), then adds them to
// the global dw, db with one atomicAdd per channel: gridDim.x (about 2 per SM) atomics per channel in all.
extern "C" __global__ void __launch_bounds__(256) layernorm_backward_f32(float* dx, float* dw, float* db,
                                                                         const float* dout, const float* x,
                                                                         const float* w, const float* mean,
                                                                         const float* rstd, int rows, int C) {
    extern __shared__ float sh[];
    float* sdw = sh;        // (C)
    float* sdb = sh + C;    // (C)
    bool wantW = dw != nullptr, wantB = db != nullptr;
    if (wantW || wantB)
        for (int c = threadIdx.x; c < C; c += blockDim.x) { sdw[c] = 0.f; sdb[c] = 0.f; }
    __syncthreads();
    int lane = threadIdx.x & 31;
    for (long long r = blockIdx.x * 8LL + (threadIdx.x >> 5); r < rows; r += gridDim.x * 8LL) {
        const float* xr = x + r * C;
        const float* gr = dout + r * C;
        float m = mean[r], s = rstd[r];
        float gsum = 0.f, gxsum = 0.f;
        for (int c = lane; c < C; c += 32) {
            float xhat = (xr[c] - m) * s, g = gr[c] * w[c];
            gsum += g;
            gxsum += g * xhat;
        }
        float gMean = warp_sum(gsum) / C, gxMean = warp_sum(gxsum) / C;
        float* dxr = dx ? dx + r * C : nullptr;
        for (int c = lane; c < C; c += 32) {
            float xhat = (xr[c] - m) * s, go = gr[c];
            if (dxr) dxr[c] = s * (go * w[c] - gMean - xhat * gxMean);
            if (wantW) atomicAdd(sdw + c, go * xhat);
            if (wantB) atomicAdd(sdb + c, go);
        }
    }
    __syncthreads();
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        if (wantW) atomicAdd(dw + c, sdw[c]);
        if (wantB) atomicAdd(db + c, sdb[c]);
    }
}
