// Softmax over the last axis of a contiguous (rows, cols) buffer: the CUDA twin of mae.kernels.Softmax.
// One warp per row, 8 rows per 256-thread block; three passes over the row (it stays in L1/L2 between them).
#include "common.cuh"

// out (rows, cols) = exp(x - max) / sum exp(x - max), per row.
extern "C" __global__ void __launch_bounds__(256) softmax_forward_f32(float* out, const float* x, int rows, int cols) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* xr = x + r * cols;
    float* yr = out + r * cols;
    float m = -CUDART_INF_F;
    for (int c = lane; c < cols; c += 32) m = fmaxf(m, xr[c]);
    m = warp_max(m);
    float s = 0.f;
    for (int c = lane; c < cols; c += 32) { float e = expf(xr[c] - m); yr[c] = e; s += e; }
    float inv = 1.f / warp_sum(s);
    for (int c = lane; c < cols; c += 32) yr[c] *= inv;
}

// dx (rows, cols) += y * (dy - sum(dy * y)), y the forward's output.
extern "C" __global__ void __launch_bounds__(256) softmax_backward_f32(float* dx, const float* dy, const float* y,
                                                                       int rows, int cols) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    float* dxr = dx + r * cols;
    float dot = 0.f;
    for (int c = lane; c < cols; c += 32) dot += dyr[c] * yr[c];
    dot = warp_sum(dot);
    for (int c = lane; c < cols; c += 32) dxr[c] += yr[c] * (dyr[c] - dot);
}
