// The MAE reconstruction loss, as models_mae.forward_loss:
//   target = norm_pix ? (target - mean) / sqrt(var + 1e-6) : target      (per patch; var unbiased, torch's default)
//   loss_row = mean over D of (pred - target)^2                          (rows = N * L patches)
//   loss = sum(loss_row * mask) / sum(mask)                              (mask 1 = removed patch)
// and its backward. There is no CPU twin in mae.kernels; the tests define it with plain loops.
#include "common.cuh"

// out (rows, D) = (x - mean) / sqrt(var + eps), mean and unbiased var over each row. One warp per row.
extern "C" __global__ void __launch_bounds__(256) norm_pix_target_f32(float* out, const float* x, int rows, int D, float eps) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* xr = x + r * D;
    float s = 0.f;
    for (int d = lane; d < D; d += 32) s += xr[d];
    float m = warp_sum(s) / D;
    float v = 0.f;
    for (int d = lane; d < D; d += 32) { float t = xr[d] - m; v += t * t; }
    float inv = 1.f / sqrtf(warp_sum(v) / (D - 1) + eps);
    float* yr = out + r * D;
    for (int d = lane; d < D; d += 32) yr[d] = (xr[d] - m) * inv;
}

// rowLoss (rows) = mean over D of (pred - target)^2. One warp per row.
extern "C" __global__ void __launch_bounds__(256) mse_rows_f32(float* rowLoss, const float* pred, const float* target,
                                                               int rows, int D) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    float s = 0.f;
    for (int d = lane; d < D; d += 32) { float e = pred[r * D + d] - target[r * D + d]; s += e * e; }
    s = warp_sum(s);
    if (lane == 0) rowLoss[r] = s / D;
}

// stats (2) = { sum(rowLoss * mask) / sum(mask), sum(mask) }; mask null means all ones.
// One block (1024 threads): rows is N * L, at most a few hundred thousand.
extern "C" __global__ void __launch_bounds__(1024) masked_mean_f32(float* stats, const float* rowLoss, const float* mask, int rows) {
    __shared__ float scratch[32];
    float s = 0.f, c = 0.f;
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
        float m = mask ? mask[r] : 1.f;
        s += rowLoss[r] * m;
        c += m;
    }
    s = block_sum(s, scratch);
    c = block_sum(c, scratch);
    if (threadIdx.x == 0) { stats[0] = s / c; stats[1] = c; }
}

// dpred (rows, D) += dloss * mask[r] / sum(mask) * 2 (pred - target) / D, with sum(mask) = stats[1] from
// masked_mean_f32 (mask null: all ones). target is the (normalized) target the forward used: the loss is not
// differentiated through norm_pix, as in MAE (the target is data).
extern "C" __global__ void mse_masked_backward_f32(float* dpred, const float* pred, const float* target,
                                                   const float* mask, const float* stats, float dloss, int rows, int D) {
    float scale = 2.f * dloss / (stats[1] * D);
    long long total = (long long)rows * D;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        float m = mask ? mask[t / D] : 1.f;
        dpred[t] += scale * m * (pred[t] - target[t]);
    }
}
