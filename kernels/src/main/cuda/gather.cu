// Gather and scatter-add along the middle axis of contiguous (outer, S, inner) buffers, the CUDA twin of
// mae.kernels.Gather, plus the MAE helpers around random masking and patches.
//
// Index layout: idx (outer, J, idxInner) int32; with idxInner == 1 one index selects a whole row of `inner`
// values (the "keep these tokens" case), else idxInner == inner and each element has its own index.
// Out-of-range indices: the CPU throws; here the element gets NaN (gather) or is skipped (scatter) and the
// first bad index is recorded in err[0..1] = {1, index} (err may be null); CudaKernels reads err back on demand.
#include "common.cuh"

__device__ __forceinline__ void record_bad_index(int* err, int s) {
    if (err && atomicCAS(err, 0, 1) == 0) err[1] = s;
}

// out (outer, J, inner) = x[o, idx[o, j, i'], i].
extern "C" __global__ void gather_f32(float* out, const float* x, const int* idx, int* err,
                                      int outer, int S, int J, int inner, int idxInner) {
    long long total = (long long)outer * J * inner;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long oj = t / inner;                 // o * J + j
        int i = (int)(t - oj * inner);
        long long o = oj / J;
        int s = idx[oj * idxInner + (idxInner == 1 ? 0 : i)];
        if (s < 0 || s >= S) { record_bad_index(err, s); out[t] = CUDART_NAN_F; continue; }
        out[t] = x[(o * S + s) * inner + i];
    }
}

// dx[o, idx[o, j, i'], i] += dout[o, j, i]: the backward of gather. atomicAdd, since indices may repeat.
extern "C" __global__ void scatter_add_f32(float* dx, const float* dout, const int* idx, int* err,
                                           int outer, int S, int J, int inner, int idxInner) {
    long long total = (long long)outer * J * inner;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long oj = t / inner;
        int i = (int)(t - oj * inner);
        long long o = oj / J;
        int s = idx[oj * idxInner + (idxInner == 1 ? 0 : i)];
        if (s < 0 || s >= S) { record_bad_index(err, s); continue; }
        atomicAdd(dx + (o * S + s) * inner + i, dout[t]);
    }
}

// MAE random masking, after ids_shuffle = argsort(noise) (on the CPU, Gather.argsortRows):
// ids_restore (rows, L) = the inverse permutation: ids_restore[r, perm[r, j]] = j.
extern "C" __global__ void invert_permutation_i32(int* inv, const int* perm, int rows, int L) {
    long long total = (long long)rows * L;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long r = t / L;
        int j = (int)(t - r * L);
        inv[r * L + perm[t]] = j;
    }
}

// mask (rows, L) = 1 where the patch is removed, 0 where kept: mask = gather([0]*keep + [1]*(L-keep), ids_restore),
// i.e. mask[r, l] = ids_restore[r, l] >= keep.
extern "C" __global__ void mae_mask_f32(float* mask, const int* ids_restore, int rows, int L, int keep) {
    long long total = (long long)rows * L;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x)
        mask[t] = ids_restore[t] >= keep ? 1.f : 0.f;
}

// MAE's patchify: imgs (N, C, H, W) -> out (N, h*w, p*p*C), h = H/p, w = W/p,
// out[n, hi*w + wi, (pi*p + pj)*C + c] = imgs[n, c, hi*p + pi, wi*p + pj]  (einsum 'nchpwq->nhwpqc').
extern "C" __global__ void patchify_f32(float* out, const float* imgs, int N, int C, int H, int W, int p) {
    int h = H / p, w = W / p, D = p * p * C;
    long long total = (long long)N * h * w * D;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        int d = (int)(t % D);
        long long nl = t / D;
        int l = (int)(nl % (h * w));
        long long n = nl / (h * w);
        int c = d % C, pq = d / C, pi = pq / p, pj = pq % p;
        int hi = l / w, wi = l % w;
        out[t] = imgs[((n * C + c) * H + hi * p + pi) * (long long)W + wi * p + pj];
    }
}

// The inverse: x (N, h*w, p*p*C) -> imgs (N, C, H, W). Runs over imgs so that writes are coalesced.
extern "C" __global__ void unpatchify_f32(float* imgs, const float* x, int N, int C, int H, int W, int p) {
    int h = H / p, w = W / p, D = p * p * C;
    long long total = (long long)N * C * h * p * w * p;
    int Hp = h * p, Wp = w * p;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        int xx = (int)(t % Wp);
        long long r = t / Wp;
        int yy = (int)(r % Hp);
        r /= Hp;
        int c = (int)(r % C);
        long long n = r / C;
        int hi = yy / p, pi = yy % p, wi = xx / p, pj = xx % p;
        imgs[((n * C + c) * H + yy) * (long long)W + xx] =
            x[(n * (h * w) + hi * w + wi) * (long long)D + (pi * p + pj) * C + c];
    }
}
