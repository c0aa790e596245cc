// Fused scaled dot-product attention, flash style: the CUDA twin of mae.kernels.Attention.
// q, k, v, out, dq, dk, dv: (BH, T, HD) contiguous; lse, D: (BH, T). Non-causal, no mask (ViT / MAE).
//   forward:  out = softmax(scale q k^T) v, lse = log-sum-exp of each scaled score row; no (T, T) matrix in memory.
//   backward: D = rowsum(dout * out); P = exp(scale q k^T - lse); dv += P^T dout; dS = P * (dout v^T - D);
//             dq += scale dS k; dk += scale dS^T q   (ADDS, as the CPU).
//
// v1 (this file, chosen, the only one so far): FP32 on the CUDA cores. A block is 4 warps; a warp owns 4 rows
// (query rows in forward and dq, key rows in dkv) and walks the other side in tiles of 32 held in shared memory,
// one lane per row of that tile for the dot products and one lane per head dimension (d = lane + 32u) for the
// accumulations. The online softmax keeps a running max m and sum l per query row (FlashAttention).
// The backward is two kernels, dq over query tiles and dk/dv over key tiles, each recomputing P from lse: no
// atomics, deterministic, at the price of computing P twice.
// Head widths: templates on HD with extern "C" wrappers for HD = 32, 64, 80, 128 (HD % 4 == 0 is assumed).
// Dynamic shared memory: attention_smem_bytes below; CudaKernels raises the 48 KB limit where it is exceeded.
// Not done: a tensor-core (mma.sync) version, which is where the speed is.
#include "common.cuh"

#define AT_W 4                 // warps per block
#define AT_R 4                 // rows per warp
#define AT_BR (AT_W * AT_R)    // rows per block: 16
#define AT_BC 32               // tile of the other side: one row per lane
#define AT_THREADS (AT_W * 32)

// ---------------------------------------------------------------------------------------------------------------
// Forward. Block: AT_BR query rows of one (b, h); grid: BH * ceil(T / AT_BR), flattened.
// smem: sQ [BR][HD], sK [BC][HD+1] (padded: lanes read different rows), sV [BC][HD], sP [W][R][BC].
template <int HD>
__device__ __forceinline__ void attention_forward(float* out, float* lse, const float* q, const float* k,
                                                  const float* v, int T, float scale) {
    constexpr int NDL = (HD + 31) / 32, KLD = HD + 1;
    extern __shared__ __align__(16) float sm[];
    float* sQ = sm;
    float* sK = sQ + AT_BR * HD;
    float* sV = sK + AT_BC * KLD;
    float* sP = sV + AT_BC * HD;
    int tiles = (T + AT_BR - 1) / AT_BR;
    long long bh = blockIdx.x / tiles;
    int i0 = (blockIdx.x % tiles) * AT_BR;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const float* qb = q + bh * T * HD;
    const float* kb = k + bh * T * HD;
    const float* vb = v + bh * T * HD;
    for (int e = threadIdx.x; e < AT_BR * HD; e += AT_THREADS) {
        int r = e / HD;
        sQ[e] = i0 + r < T ? qb[(long long)i0 * HD + e] : 0.f;
    }
    float m[AT_R], l[AT_R], o[AT_R][NDL];
#pragma unroll
    for (int r = 0; r < AT_R; r++) {
        m[r] = -CUDART_INF_F; l[r] = 0.f;
#pragma unroll
        for (int u = 0; u < NDL; u++) o[r][u] = 0.f;
    }
    float* myP = sP + warp * AT_R * AT_BC;
    for (int j0 = 0; j0 < T; j0 += AT_BC) {
        __syncthreads();                                   // the previous tile is no longer read
        for (int e = threadIdx.x; e < AT_BC * HD; e += AT_THREADS) {
            int r = e / HD, d = e - r * HD;
            bool ok = j0 + r < T;                          // zeros, not garbage: 0 * NaN would poison o
            sK[r * KLD + d] = ok ? kb[(long long)j0 * HD + e] : 0.f;
            sV[e] = ok ? vb[(long long)j0 * HD + e] : 0.f;
        }
        __syncthreads();
        // scores of this warp's rows against key j0 + lane
        float s[AT_R] = {};
        const float* kr = sK + lane * KLD;
#pragma unroll 4
        for (int d = 0; d < HD; d += 4) {
            float k0 = kr[d], k1 = kr[d + 1], k2 = kr[d + 2], k3 = kr[d + 3];
#pragma unroll
            for (int r = 0; r < AT_R; r++) {
                float4 qv = *(const float4*)(sQ + (warp * AT_R + r) * HD + d);   // broadcast
                s[r] += qv.x * k0 + qv.y * k1 + qv.z * k2 + qv.w * k3;
            }
        }
        bool valid = j0 + lane < T;
#pragma unroll
        for (int r = 0; r < AT_R; r++) {
            float sc = valid ? s[r] * scale : -CUDART_INF_F;
            float mn = fmaxf(m[r], warp_max(sc));          // finite: lane 0's key is always valid
            float p = valid ? expf(sc - mn) : 0.f;
            float corr = expf(m[r] - mn);                  // 0 on the first tile (m = -inf)
            l[r] = l[r] * corr + warp_sum(p);
            m[r] = mn;
#pragma unroll
            for (int u = 0; u < NDL; u++) o[r][u] *= corr;
            myP[r * AT_BC + lane] = p;
        }
        __syncwarp();
        // o += P V, lane over head dims
#pragma unroll 2
        for (int jj = 0; jj < AT_BC; jj += 4) {
            float4 pv[AT_R];
#pragma unroll
            for (int r = 0; r < AT_R; r++) pv[r] = *(const float4*)(myP + r * AT_BC + jj);
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const float* vr = sV + (jj + c) * HD;
#pragma unroll
                for (int u = 0; u < NDL; u++) {
                    int d = lane + 32 * u;
                    float vv = (HD % 32 == 0 || d < HD) ? vr[d] : 0.f;
#pragma unroll
                    for (int r = 0; r < AT_R; r++) {
                        float pc = c == 0 ? pv[r].x : c == 1 ? pv[r].y : c == 2 ? pv[r].z : pv[r].w;
                        o[r][u] += pc * vv;
                    }
                }
            }
        }
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < AT_R; r++) {
        int i = i0 + warp * AT_R + r;
        if (i >= T) continue;
        float inv = 1.f / l[r];
        float* orow = out + (bh * T + i) * HD;
#pragma unroll
        for (int u = 0; u < NDL; u++) {
            int d = lane + 32 * u;
            if (HD % 32 == 0 || d < HD) orow[d] = o[r][u] * inv;
        }
        if (lane == 0) lse[bh * T + i] = m[r] + logf(l[r]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Backward, step 1: D (rows) = sum over HD of dout * out, one warp per row (rows = BH * T), 8 rows per block.
extern "C" __global__ void __launch_bounds__(256) attention_backward_dot_f32(float* D, const float* dout, const float* out,
                                                                             int rows, int hd) {
    int lane = threadIdx.x & 31;
    long long r = blockIdx.x * 8LL + (threadIdx.x >> 5);
    if (r >= rows) return;
    float s = 0.f;
    for (int d = lane; d < hd; d += 32) s += dout[r * hd + d] * out[r * hd + d];
    s = warp_sum(s);
    if (lane == 0) D[r] = s;
}

// Backward, step 2: dq. Block: AT_BR query rows; walks key tiles of AT_BC.
// smem: sQ [BR][HD], sdO [BR][HD], sK [BC][HD+1], sV [BC][HD+1], sS [W][R][BC].
template <int HD>
__device__ __forceinline__ void attention_backward_dq(float* dq, const float* dout, const float* q, const float* k,
                                                      const float* v, const float* lse, const float* D,
                                                      int T, float scale) {
    constexpr int NDL = (HD + 31) / 32, KLD = HD + 1;
    extern __shared__ __align__(16) float sm[];
    float* sQ = sm;
    float* sdO = sQ + AT_BR * HD;
    float* sK = sdO + AT_BR * HD;
    float* sV = sK + AT_BC * KLD;
    float* sS = sV + AT_BC * KLD;
    int tiles = (T + AT_BR - 1) / AT_BR;
    long long bh = blockIdx.x / tiles;
    int i0 = (blockIdx.x % tiles) * AT_BR;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const float* qb = q + bh * T * HD;
    const float* ob = dout + bh * T * HD;
    const float* kb = k + bh * T * HD;
    const float* vb = v + bh * T * HD;
    for (int e = threadIdx.x; e < AT_BR * HD; e += AT_THREADS) {
        bool ok = i0 + e / HD < T;
        sQ[e] = ok ? qb[(long long)i0 * HD + e] : 0.f;
        sdO[e] = ok ? ob[(long long)i0 * HD + e] : 0.f;
    }
    float rowLse[AT_R], rowD[AT_R], acc[AT_R][NDL];
#pragma unroll
    for (int r = 0; r < AT_R; r++) {
        int i = i0 + warp * AT_R + r;
        rowLse[r] = i < T ? lse[bh * T + i] : 0.f;
        rowD[r] = i < T ? D[bh * T + i] : 0.f;
#pragma unroll
        for (int u = 0; u < NDL; u++) acc[r][u] = 0.f;
    }
    float* myS = sS + warp * AT_R * AT_BC;
    for (int j0 = 0; j0 < T; j0 += AT_BC) {
        __syncthreads();
        for (int e = threadIdx.x; e < AT_BC * HD; e += AT_THREADS) {
            int r = e / HD, d = e - r * HD;
            bool ok = j0 + r < T;
            sK[r * KLD + d] = ok ? kb[(long long)j0 * HD + e] : 0.f;
            sV[r * KLD + d] = ok ? vb[(long long)j0 * HD + e] : 0.f;
        }
        __syncthreads();
        float s[AT_R] = {}, dp[AT_R] = {};
        const float* kr = sK + lane * KLD;
        const float* vr = sV + lane * KLD;
#pragma unroll 2
        for (int d = 0; d < HD; d += 4) {
            float k0 = kr[d], k1 = kr[d + 1], k2 = kr[d + 2], k3 = kr[d + 3];
            float v0 = vr[d], v1 = vr[d + 1], v2 = vr[d + 2], v3 = vr[d + 3];
#pragma unroll
            for (int r = 0; r < AT_R; r++) {
                float4 qv = *(const float4*)(sQ + (warp * AT_R + r) * HD + d);
                float4 gv = *(const float4*)(sdO + (warp * AT_R + r) * HD + d);
                s[r] += qv.x * k0 + qv.y * k1 + qv.z * k2 + qv.w * k3;
                dp[r] += gv.x * v0 + gv.y * v1 + gv.z * v2 + gv.w * v3;
            }
        }
        bool valid = j0 + lane < T;
#pragma unroll
        for (int r = 0; r < AT_R; r++) {
            float p = valid ? expf(scale * s[r] - rowLse[r]) : 0.f;
            myS[r * AT_BC + lane] = p * (dp[r] - rowD[r]);          // dS
        }
        __syncwarp();
        // dq += scale dS k, lane over head dims
#pragma unroll 2
        for (int jj = 0; jj < AT_BC; jj++) {
#pragma unroll
            for (int u = 0; u < NDL; u++) {
                int d = lane + 32 * u;
                float kv = (HD % 32 == 0 || d < HD) ? sK[jj * KLD + d] : 0.f;
#pragma unroll
                for (int r = 0; r < AT_R; r++) acc[r][u] += myS[r * AT_BC + jj] * kv;
            }
        }
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < AT_R; r++) {
        int i = i0 + warp * AT_R + r;
        if (i >= T) continue;
        float* row = dq + (bh * T + i) * HD;
#pragma unroll
        for (int u = 0; u < NDL; u++) {
            int d = lane + 32 * u;
            if (HD % 32 == 0 || d < HD) row[d] += scale * acc[r][u];
        }
    }
}

// Backward, step 3: dk and dv. Block: AT_BR key rows; walks query tiles of AT_BC (lane = query row).
// smem: sK [BR][HD], sV [BR][HD], sQ [BC][HD+1], sdO [BC][HD+1], sLse [BC], sD [BC], sP [W][R][BC], sS [W][R][BC].
template <int HD>
__device__ __forceinline__ void attention_backward_dkv(float* dk, float* dv, const float* dout, const float* q,
                                                       const float* k, const float* v, const float* lse,
                                                       const float* D, int T, float scale) {
    constexpr int NDL = (HD + 31) / 32, KLD = HD + 1;
    extern __shared__ __align__(16) float sm[];
    float* sK = sm;
    float* sV = sK + AT_BR * HD;
    float* sQ = sV + AT_BR * HD;
    float* sdO = sQ + AT_BC * KLD;
    float* sLse = sdO + AT_BC * KLD;
    float* sD = sLse + AT_BC;
    float* sP = sD + AT_BC;
    float* sS = sP + AT_W * AT_R * AT_BC;
    int tiles = (T + AT_BR - 1) / AT_BR;
    long long bh = blockIdx.x / tiles;
    int j0 = (blockIdx.x % tiles) * AT_BR;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const float* qb = q + bh * T * HD;
    const float* ob = dout + bh * T * HD;
    const float* kb = k + bh * T * HD;
    const float* vb = v + bh * T * HD;
    for (int e = threadIdx.x; e < AT_BR * HD; e += AT_THREADS) {
        bool ok = j0 + e / HD < T;
        sK[e] = ok ? kb[(long long)j0 * HD + e] : 0.f;
        sV[e] = ok ? vb[(long long)j0 * HD + e] : 0.f;
    }
    float accK[AT_R][NDL], accV[AT_R][NDL];
#pragma unroll
    for (int r = 0; r < AT_R; r++)
#pragma unroll
        for (int u = 0; u < NDL; u++) { accK[r][u] = 0.f; accV[r][u] = 0.f; }
    float* myP = sP + warp * AT_R * AT_BC;
    float* myS = sS + warp * AT_R * AT_BC;
    for (int i0 = 0; i0 < T; i0 += AT_BC) {
        __syncthreads();
        for (int e = threadIdx.x; e < AT_BC * HD; e += AT_THREADS) {
            int r = e / HD, d = e - r * HD;
            bool ok = i0 + r < T;
            sQ[r * KLD + d] = ok ? qb[(long long)i0 * HD + e] : 0.f;
            sdO[r * KLD + d] = ok ? ob[(long long)i0 * HD + e] : 0.f;
        }
        if (threadIdx.x < AT_BC) {
            bool ok = i0 + threadIdx.x < T;
            sLse[threadIdx.x] = ok ? lse[bh * T + i0 + threadIdx.x] : 0.f;
            sD[threadIdx.x] = ok ? D[bh * T + i0 + threadIdx.x] : 0.f;
        }
        __syncthreads();
        // scores of query i0 + lane against this warp's key rows
        float s[AT_R] = {}, dp[AT_R] = {};
        const float* qr = sQ + lane * KLD;
        const float* gr = sdO + lane * KLD;
#pragma unroll 2
        for (int d = 0; d < HD; d += 4) {
            float q0 = qr[d], q1 = qr[d + 1], q2 = qr[d + 2], q3 = qr[d + 3];
            float g0 = gr[d], g1 = gr[d + 1], g2 = gr[d + 2], g3 = gr[d + 3];
#pragma unroll
            for (int r = 0; r < AT_R; r++) {
                float4 kv = *(const float4*)(sK + (warp * AT_R + r) * HD + d);   // broadcast
                float4 vv = *(const float4*)(sV + (warp * AT_R + r) * HD + d);
                s[r] += q0 * kv.x + q1 * kv.y + q2 * kv.z + q3 * kv.w;
                dp[r] += g0 * vv.x + g1 * vv.y + g2 * vv.z + g3 * vv.w;
            }
        }
        bool valid = i0 + lane < T;
        float myLse = sLse[lane], myD = sD[lane];
#pragma unroll
        for (int r = 0; r < AT_R; r++) {
            float p = valid ? expf(scale * s[r] - myLse) : 0.f;
            myP[r * AT_BC + lane] = p;
            myS[r * AT_BC + lane] = p * (dp[r] - myD);
        }
        __syncwarp();
        // dv += P^T dout, dk += scale dS^T q; lane over head dims
#pragma unroll 2
        for (int ii = 0; ii < AT_BC; ii++) {
#pragma unroll
            for (int u = 0; u < NDL; u++) {
                int d = lane + 32 * u;
                bool in = HD % 32 == 0 || d < HD;
                float gv = in ? sdO[ii * KLD + d] : 0.f;
                float qv = in ? sQ[ii * KLD + d] : 0.f;
#pragma unroll
                for (int r = 0; r < AT_R; r++) {
                    accV[r][u] += myP[r * AT_BC + ii] * gv;
                    accK[r][u] += myS[r * AT_BC + ii] * qv;
                }
            }
        }
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < AT_R; r++) {
        int j = j0 + warp * AT_R + r;
        if (j >= T) continue;
        float* krow = dk + (bh * T + j) * HD;
        float* vrow = dv + (bh * T + j) * HD;
#pragma unroll
        for (int u = 0; u < NDL; u++) {
            int d = lane + 32 * u;
            if (HD % 32 == 0 || d < HD) { krow[d] += scale * accK[r][u]; vrow[d] += accV[r][u]; }
        }
    }
}

// extern "C" wrappers, one set per head width. Grid: BH * ceil(T / 16) blocks of 128 threads; dynamic shared
// memory in bytes (CudaKernels.attentionSmem mirrors these):
//   forward (80 HD + 32 + 512) * 4;  dq (96 HD + 64 + 512) * 4;  dkv (96 HD + 64 + 64 + 1024) * 4.
#define ATTENTION_HD(HD)                                                                                         \
    extern "C" __global__ void __launch_bounds__(AT_THREADS, 4) attention_forward_hd##HD(                          \
        float* out, float* lse, const float* q, const float* k, const float* v, int T, float scale) {           \
        attention_forward<HD>(out, lse, q, k, v, T, scale);                                                     \
    }                                                                                                           \
    extern "C" __global__ void __launch_bounds__(AT_THREADS, 4) attention_backward_dq_hd##HD(                      \
        float* dq, const float* dout, const float* q, const float* k, const float* v, const float* lse,         \
        const float* D, int T, float scale) {                                                                   \
        attention_backward_dq<HD>(dq, dout, q, k, v, lse, D, T, scale);                                         \
    }                                                                                                           \
    extern "C" __global__ void __launch_bounds__(AT_THREADS, 4) attention_backward_dkv_hd##HD(                     \
        float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v,                \
        const float* lse, const float* D, int T, float scale) {                                                 \
        attention_backward_dkv<HD>(dk, dv, dout, q, k, v, lse, D, T, scale);                                    \
    }
ATTENTION_HD(32)
ATTENTION_HD(64)
ATTENTION_HD(80)
ATTENTION_HD(128)
