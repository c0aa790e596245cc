// Reductions over the middle axis of a contiguous (outer, n, inner) buffer: the CUDA twin of
// mae.kernels.Reduce.sum and Reduce.max. The CPU sums in double; here each thread sums in float and the
// partial sums meet in a tree, so the error grows like log(n) ulp rather than n ulp.
//
// Chosen kernels: inner == 1 (sum of each row): reduce_sum_rows_f32; otherwise reduce_sum_mid_f32.
// Both may split n into chunks (gridDim.x resp. gridDim.z > 1) whose partial sums are atomically added:
// the launcher zeroes `out` first in that case (then the order of the additions, and the last bits, vary).
#include "common.cuh"

// out (rows) = sum over n of x (rows, n). Block (256): one row chunk [blockIdx.x*chunk, +chunk) per block;
// grid (chunks, min(rows, 65535)), striding over rows. `accumulate` != 0: atomicAdd into out (zeroed).
extern "C" __global__ void __launch_bounds__(256) reduce_sum_rows_f32(float* out, const float* x, int rows, int n,
                                                                      int chunk, int accumulate) {
    __shared__ float scratch[32];
    int j0 = blockIdx.x * chunk, j1 = min(n, j0 + chunk);
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        const float* row = x + (long long)r * n;
        float acc = 0.f;
        for (int j = j0 + threadIdx.x; j < j1; j += blockDim.x) acc += row[j];
        acc = block_sum(acc, scratch);
        if (threadIdx.x == 0) {
            if (accumulate) atomicAdd(out + r, acc); else out[r] = acc;
        }
    }
}

// out (outer, inner) = sum over n of x (outer, n, inner). Block 256 = 8 groups of 32: tx = threadIdx.x % 32 runs
// along inner (coalesced), ty = threadIdx.x / 32 splits the rows of a chunk; grid (ceil(inner/32), min(outer, 65535), chunks).
extern "C" __global__ void __launch_bounds__(256) reduce_sum_mid_f32(float* out, const float* x, int outer, int n,
                                                                     int inner, int chunk, int accumulate) {
    __shared__ float part[8][33];
    int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
    int i = blockIdx.x * 32 + tx;
    int j0 = blockIdx.z * chunk, j1 = min(n, j0 + chunk);
    for (int o = blockIdx.y; o < outer; o += gridDim.y) {
        float acc = 0.f;
        if (i < inner)
            for (int j = j0 + ty; j < j1; j += 8) acc += x[((long long)o * n + j) * inner + i];
        part[ty][tx] = acc;
        __syncthreads();
        if (ty == 0 && i < inner) {
            float s = 0.f;
#pragma unroll
            for (int k = 0; k < 8; k++) s += part[k][tx];
            float* dst = out + (long long)o * inner + i;
            if (accumulate) atomicAdd(dst, s); else *dst = s;
        }
        __syncthreads();
    }
}

// (value, index) pair order of Reduce.max: NaN beats everything, then the larger value, then the smaller index
// (the first index reaching the maximum). Associative and commutative, so any reduction tree gives the CPU's answer.
__device__ __forceinline__ bool max_better(float v, int i, float w, int k) {
    bool vn = v != v, wn = w != w;
    if (vn || wn) return vn && (!wn || i < k);
    return v > w || (v == w && i < k);
}

// out (rows), arg (rows) = max and first argmax over each row of x (rows, n). One warp per row, 8 per block.
extern "C" __global__ void __launch_bounds__(256) reduce_max_rows_f32(float* out, int* arg, const float* x,
                                                                      int rows, int n) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* row = x + r * n;
    float best = -CUDART_INF_F;
    int bi = 0x7fffffff;
    for (int j = lane; j < n; j += 32) {
        float v = row[j];
        if (max_better(v, j, best, bi)) { best = v; bi = j; }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float w = __shfl_xor_sync(FULL_MASK, best, o);
        int k = __shfl_xor_sync(FULL_MASK, bi, o);
        if (max_better(w, k, best, bi)) { best = w; bi = k; }
    }
    if (lane == 0) { out[r] = best; arg[r] = bi; }
}

// out (outer, inner), arg (outer, inner) = max and first argmax over n of x (outer, n, inner), inner > 1:
// one thread per output, walking n (coalesced across inner).
extern "C" __global__ void reduce_max_mid_f32(float* out, int* arg, const float* x, int outer, int n, int inner) {
    long long total = (long long)outer * inner;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long o = t / inner;
        int i = (int)(t - o * inner);
        const float* p = x + o * n * (long long)inner + i;
        float best = p[0];
        int bi = 0;
        for (int j = 1; j < n && best == best; j++) {   // stops at the first NaN, as the CPU loop
            float v = p[(long long)j * inner];
            if (v > best || v != v) { best = v; bi = j; }
        }
        out[t] = best;
        arg[t] = bi;
    }
}
