// Gather and scatter-add along the middle axis of contiguous (outer, S, inner) buffers, the CUDA twin of
// mae.kernels.Gather.
//
// Index layout: idx (outer, J, idxInner) int32; with idxInner == 1 one index selects a whole row of `inner`
// values (the "keep these tokens" case), else idxInner == inner and each element has its own index.
// Out-of-range indices: the tensor layer checks every index on the host before the upload (CudaOps), as the
// CPU does; should one still arrive, the element gets NaN (gather) or is skipped (scatter), never a wild access.
#include "common.cuh"

// out (outer, J, inner) = x[o, idx[o, j, i'], i].
extern "C" __global__ void gather_f32(float* out, const float* x, const int* idx,
                                      int outer, int S, int J, int inner, int idxInner) {
    long long total = (long long)outer * J * inner;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long oj = t / inner;                 // o * J + j
        int i = (int)(t - oj * inner);
        long long o = oj / J;
        int s = idx[oj * idxInner + (idxInner == 1 ? 0 : i)];
        if (s < 0 || s >= S) { out[t] = CUDART_NAN_F; continue; }
        out[t] = x[(o * S + s) * inner + i];
    }
}

// dx[o, idx[o, j, i'], i] += dout[o, j, i]: the backward of gather. atomicAdd, since indices may repeat.
extern "C" __global__ void scatter_add_f32(float* dx, const float* dout, const int* idx,
                                           int outer, int S, int J, int inner, int idxInner) {
    long long total = (long long)outer * J * inner;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long oj = t / inner;
        int i = (int)(t - oj * inner);
        long long o = oj / J;
        int s = idx[oj * idxInner + (idxInner == 1 ? 0 : i)];
        if (s < 0 || s >= S) continue;
        atomicAdd(dx + (o * S + s) * inner + i, dout[t]);
    }
}
