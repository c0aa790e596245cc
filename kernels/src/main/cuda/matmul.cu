// Matrix multiply, row-major, batched: the CUDA twin of mae.kernels.Gemm.
//   C[b] (M, N) = alpha * op(A[b]) (M, K) @ op(B[b]) (K, N) + beta * C[b],   b < batch,
// A[b] = A + b * strideA (elements), likewise B and C. A is stored (M, K) with row stride lda, or (K, M) when
// transA; B is (K, N) with stride ldb, or (N, K) when transB. beta == 0 ignores C (NaNs there included).
//
// Versions, side by side (llm.c's dev/cuda habit); CudaKernels.matmul picks by Precision and by the device:
//   v1 matmul_f32_simt          plain FP32 on the CUDA cores: 64x64 tiles, 4x4 outputs per thread. Precision.FP32.
//   v2 matmul_{tf32,bf16}_{nn,nt,tn,tt}   Precision.TF32 / BF16 where a block cannot have v3's 110,592 bytes of
//                               shared memory (sm_86 and sm_89 allow 99 KB): tensor cores through mma.sync PTX,
//                               FP32 inputs rounded to TF32 (cvt.rna) or BF16 (RN) on their way into shared memory,
//                               FP32 accumulation. 128x128 block tile, 8 warps of 64x32, K step 16, two shared-memory
//                               buffers fed through registers so that the global loads of tile k+1 are in flight
//                               while tile k is multiplied; K-contiguous operands read as float4 where aligned.
//                               The transposes are template parameters of the global loads only: shared memory
//                               always holds both operands K-contiguous, the layout the mma fragments want.
//   v3 matmul_pipe_{tf32,bf16}_{nn,nt,tn,tt}   CHOSEN for TF32 / BF16 where the block may have 110,592 bytes
//                               (sm_80, sm_90): v2's warps and fragments, fed by a 3-stage cp.async pipeline
//                               (below).
// Every size works: loads outside (M, N, K) read as zero and stores outside are skipped, so no size needs to be a
// multiple of a tile (the "fallback" is predication, in the same kernel).
// Measured on an H200 (2026-12-04, bench/results/2026-12-04-nvidia-h200-matmul-tune.md; bench/cuda/matmul_tune.cu,
// medians of 5 x 10 launches, TFLOP/s at the ViT-B shapes 12800 x {768, 2304, 3072} x {768, 3072} and 4096^3):
//   v2 as it was (scalar loads)   TF32 nt 42-48, nn 42-49, tn 12-46;   BF16 nt 46-54, nn 45-52, tn 14-51
//   v2 with float4 loads (kept)   TF32 nt 81-101, nn 52-61, tn 13-46;  BF16 nt 98-141, nn 60-70, tn 14-51
//   v2, 2 blocks per SM (128 registers, 0-128 bytes of spills), with float4 loads: nt 0.92-0.97x, nn 1.13-1.39x,
//                               tn 0.91-1.39x; left off, since v2 is now only the fallback of GPUs it was not timed on
//   v3, 3 stages                  TF32 nt 87-113, nn 86-113, tn 24-119; BF16 nt 80-100, nn 83-106, tn 21-107
//   v3, 4 stages (one block per SM): 0.74-0.80x of 3 stages at nt and nn, 0.79-1.12x at tn: dropped
// The limit of v2 was the global-to-shared path, not the tensor cores. Products of few tiles are split along K by the
// caller (CudaBackend.matmulSplitK). Not done: BF16 tiles staged as BF16 (v2's float4 loads show BF16 nt at 1.4x v3),
// Hopper's wgmma / TMA path (sm_90a).
#include "common.cuh"
#include <cuda_bf16.h>

// ---------------------------------------------------------------------------------------------------------------
// v1: FP32 SIMT. Block 256 = 16 x 16 threads, each computing a 4 x 4 block of the 64 x 64 tile.
#define S_BM 64
#define S_BN 64
#define S_BK 16

extern "C" __global__ void __launch_bounds__(256) matmul_f32_simt(int transA, int transB, int M, int N, int K, float alpha,
                                                                  const float* A, int lda, long long strideA,
                                                                  const float* B, int ldb, long long strideB,
                                                                  float beta, float* C, int ldc, long long strideC) {
    __shared__ float As[S_BK][S_BM + 4];   // As[k][m]
    __shared__ float Bs[S_BK][S_BN + 4];   // Bs[k][n]
    A += blockIdx.z * strideA; B += blockIdx.z * strideB; C += blockIdx.z * strideC;
    int m0 = blockIdx.y * S_BM, n0 = blockIdx.x * S_BN;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += S_BK) {
        for (int e = threadIdx.x; e < S_BM * S_BK; e += 256) {   // 4 elements per thread per operand
            int r, k;
            if (transA) { r = e % S_BM; k = e / S_BM; } else { k = e % S_BK; r = e / S_BK; }   // coalesced either way
            int gm = m0 + r, gk = k0 + k;
            As[k][r] = (gm < M && gk < K) ? A[transA ? (long long)gk * lda + gm : (long long)gm * lda + gk] : 0.f;
            if (transB) { k = e % S_BK; r = e / S_BK; } else { r = e % S_BN; k = e / S_BN; }
            int gn = n0 + r;
            gk = k0 + k;
            Bs[k][r] = (gn < N && gk < K) ? B[transB ? (long long)gn * ldb + gk : (long long)gk * ldb + gn] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < S_BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) { a[i] = As[k][ty * 4 + i]; b[i] = Bs[k][tx * 4 + i]; }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gm = m0 + ty * 4 + i, gn = n0 + tx * 4 + j;
            if (gm < M && gn < N) {
                float* c = C + (long long)gm * ldc + gn;
                *c = alpha * acc[i][j] + (beta == 0.f ? 0.f : beta * *c);
            }
        }
}

// ---------------------------------------------------------------------------------------------------------------
// v2: tensor cores through mma.sync.
#define TC_BM 128
#define TC_BN 128
#define TC_THREADS 256
#define TC_WM 64          // warp tile rows: 2 warps along M
#define TC_WN 32          // warp tile cols: 4 warps along N
#define TC_MT (TC_WM / 16)   // m16 tiles per warp
#define TC_NT (TC_WN / 8)    // n8 tiles per warp

struct Tf32 {                        // mma.m16n8k8, operands as 32-bit TF32 patterns
    static constexpr int BK = 16;    // K per shared tile
    static constexpr int PAD = 4;    // row stride 20 words: conflict-free fragment reads
    typedef unsigned int T;
    static __device__ __forceinline__ T convert(float x) {
        unsigned int r;
        asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
        return r;
    }
};

struct Bf16 {                        // mma.m16n8k16, operands as BF16 pairs
    static constexpr int BK = 16;    // one k16 step per tile: 16 staged floats per thread, as TF32 (BK = 32 spilled)
    static constexpr int PAD = 8;    // row stride 24 halves = 12 words: conflict-free fragment reads
    typedef __nv_bfloat16 T;
    static __device__ __forceinline__ T convert(float x) { return __float2bfloat16_rn(x); }
};

// One (128 x BK) operand tile, logical layout [r][k], r the M (or N) index. KCONTIG: element (r, k) sits at
// p[r * ld + k] (A not transposed, B transposed), else at p[k * ld + r]. Threads are laid out along the contiguous
// axis so that each warp's loads are coalesced in both cases.
template <class P, bool KCONTIG>
struct TileLoader {
    static constexpr int PER_THREAD = TC_BM * P::BK / TC_THREADS;   // 8
    static constexpr bool VEC = KCONTIG;   // float4 loads where aligned: 2 per thread, 4 consecutive k each
    // The thread's s-th element of the tile: (r, k). The same map for load and store.
    __device__ __forceinline__ static void at(int s, int& r, int& k) {
        if (VEC) { int v = threadIdx.x + (s >> 2) * TC_THREADS; r = v / (P::BK / 4); k = (v % (P::BK / 4)) * 4 + (s & 3); }
        else {
            int e = threadIdx.x + s * TC_THREADS;
            if (KCONTIG) { k = e % P::BK; r = e / P::BK; } else { r = e % TC_BM; k = e / TC_BM; }
        }
    }
    __device__ __forceinline__ static void load(float (&reg)[PER_THREAD], const float* p, long long ld,
                                                int r0, int k0, int R, int K) {
        if (VEC && ((ld & 3) == 0) && ((reinterpret_cast<unsigned long long>(p) & 15) == 0)) {
#pragma unroll
            for (int s = 0; s < PER_THREAD; s += 4) {
                int r, k;
                at(s, r, k);
                int gr = r0 + r, gk = k0 + k;
                if (gr < R && gk + 3 < K) {
                    float4 v = *reinterpret_cast<const float4*>(p + gr * ld + gk);
                    reg[s] = v.x; reg[s + 1] = v.y; reg[s + 2] = v.z; reg[s + 3] = v.w;
                } else {
#pragma unroll
                    for (int j = 0; j < 4; j++) reg[s + j] = (gr < R && gk + j < K) ? p[gr * ld + gk + j] : 0.f;
                }
            }
            return;
        }
#pragma unroll
        for (int s = 0; s < PER_THREAD; s++) {
            int r, k;
            at(s, r, k);
            int gr = r0 + r, gk = k0 + k;
            reg[s] = (gr < R && gk < K) ? (KCONTIG ? p[gr * ld + gk] : p[gk * ld + gr]) : 0.f;
        }
    }
    __device__ __forceinline__ static void store(const float (&reg)[PER_THREAD], typename P::T* tile) {
#pragma unroll
        for (int s = 0; s < PER_THREAD; s++) {
            int r, k;
            at(s, r, k);
            tile[r * (P::BK + P::PAD) + k] = P::convert(reg[s]);
        }
    }
};

__device__ __forceinline__ void mma_tf32(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// The warp's 64 x 32 tile times one BK slice of shared memory. As, Bs: [128][BK + PAD], K-contiguous.
// Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k8 / m16n8k16"), g = lane / 4, t = lane % 4:
//   TF32 k8:  A a0 (g, t)  a1 (g+8, t)  a2 (g, t+4)  a3 (g+8, t+4);  B b0 (k=t, n=g)  b1 (k=t+4, n=g)
//   BF16 k16: A a0 (g, 2t..2t+1)  a1 (g+8, 2t..)  a2 (g, 2t+8..)  a3 (g+8, 2t+8..);  B b0 (k=2t.., n=g)  b1 (k=2t+8.., n=g)
//   C: c0 (g, 2t)  c1 (g, 2t+1)  c2 (g+8, 2t)  c3 (g+8, 2t+1)
template <class P>
__device__ __forceinline__ void warp_mma(float (&acc)[TC_MT][TC_NT][4], const typename P::T* As,
                                         const typename P::T* Bs, int wm, int wn, int g, int t) {
    constexpr int LD = P::BK + P::PAD;
    if constexpr (sizeof(typename P::T) == 4) {                    // TF32
#pragma unroll
        for (int kk = 0; kk < P::BK; kk += 8) {
            unsigned a[TC_MT][4], b[TC_NT][2];
#pragma unroll
            for (int i = 0; i < TC_MT; i++) {
                const unsigned* s = As + (wm * TC_WM + i * 16 + g) * LD + kk + t;
                a[i][0] = s[0]; a[i][1] = s[8 * LD]; a[i][2] = s[4]; a[i][3] = s[8 * LD + 4];
            }
#pragma unroll
            for (int j = 0; j < TC_NT; j++) {
                const unsigned* s = Bs + (wn * TC_WN + j * 8 + g) * LD + kk + t;
                b[j][0] = s[0]; b[j][1] = s[4];
            }
#pragma unroll
            for (int i = 0; i < TC_MT; i++)
#pragma unroll
                for (int j = 0; j < TC_NT; j++) mma_tf32(acc[i][j], a[i], b[j]);
        }
    } else {                                                        // BF16
#pragma unroll
        for (int kk = 0; kk < P::BK; kk += 16) {
            unsigned a[TC_MT][4], b[TC_NT][2];
#pragma unroll
            for (int i = 0; i < TC_MT; i++) {
                const __nv_bfloat16* s = As + (wm * TC_WM + i * 16 + g) * LD + kk + 2 * t;
                a[i][0] = *(const unsigned*)s;
                a[i][1] = *(const unsigned*)(s + 8 * LD);
                a[i][2] = *(const unsigned*)(s + 8);
                a[i][3] = *(const unsigned*)(s + 8 * LD + 8);
            }
#pragma unroll
            for (int j = 0; j < TC_NT; j++) {
                const __nv_bfloat16* s = Bs + (wn * TC_WN + j * 8 + g) * LD + kk + 2 * t;
                b[j][0] = *(const unsigned*)s;
                b[j][1] = *(const unsigned*)(s + 8);
            }
#pragma unroll
            for (int i = 0; i < TC_MT; i++)
#pragma unroll
                for (int j = 0; j < TC_NT; j++) mma_bf16(acc[i][j], a[i], b[j]);
        }
    }
}

// The warp's accumulators, zeroed.
__device__ __forceinline__ void zero_tile(float (&acc)[TC_MT][TC_NT][4]) {
#pragma unroll
    for (int i = 0; i < TC_MT; i++)
#pragma unroll
        for (int j = 0; j < TC_NT; j++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[i][j][c] = 0.f;
}

// C's (128 x 128) block from the warps' accumulators: C = alpha acc + beta C (beta 0: C not read), inside (M, N).
__device__ __forceinline__ void store_tile(const float (&acc)[TC_MT][TC_NT][4], int M, int N, float alpha, float beta,
                                           float* C, int ldc, int m0, int n0, int wm, int wn, int g, int t) {
#pragma unroll
    for (int i = 0; i < TC_MT; i++)
#pragma unroll
        for (int j = 0; j < TC_NT; j++)
#pragma unroll
            for (int c = 0; c < 4; c++) {
                int gm = m0 + wm * TC_WM + i * 16 + g + (c >> 1) * 8;
                int gn = n0 + wn * TC_WN + j * 8 + 2 * t + (c & 1);
                if (gm < M && gn < N) {
                    float* p = C + (long long)gm * ldc + gn;
                    *p = alpha * acc[i][j][c] + (beta == 0.f ? 0.f : beta * *p);
                }
            }
}

template <class P, bool TA, bool TB>
__device__ __forceinline__ void matmul_tc(int M, int N, int K, float alpha,
                                          const float* A, int lda, long long strideA,
                                          const float* B, int ldb, long long strideB,
                                          float beta, float* C, int ldc, long long strideC) {
    constexpr int TILE = TC_BM * (P::BK + P::PAD);   // elements per operand tile and buffer
    __shared__ __align__(16) typename P::T As[2 * TILE];
    __shared__ __align__(16) typename P::T Bs[2 * TILE];
    typedef TileLoader<P, !TA> LA;   // A (M, K) is K-contiguous unless transposed
    typedef TileLoader<P, TB> LB;    // B (K, N) is N-contiguous unless transposed
    A += blockIdx.z * strideA; B += blockIdx.z * strideB; C += blockIdx.z * strideC;
    int m0 = blockIdx.y * TC_BM, n0 = blockIdx.x * TC_BN;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int wm = warp >> 2, wn = warp & 3, g = lane >> 2, t = lane & 3;

    float acc[TC_MT][TC_NT][4];
    zero_tile(acc);

    float ra[LA::PER_THREAD], rb[LB::PER_THREAD];
    int ktiles = (K + P::BK - 1) / P::BK;
    LA::load(ra, A, lda, m0, 0, M, K);
    LB::load(rb, B, ldb, n0, 0, N, K);
    LA::store(ra, As);
    LB::store(rb, Bs);
    __syncthreads();
    for (int kt = 0; kt < ktiles; kt++) {
        int cur = (kt & 1) * TILE, nxt = TILE - cur;
        bool more = kt + 1 < ktiles;
        if (more) {                                  // global loads of the next tile, in flight during the mma
            LA::load(ra, A, lda, m0, (kt + 1) * P::BK, M, K);
            LB::load(rb, B, ldb, n0, (kt + 1) * P::BK, N, K);
        }
        warp_mma<P>(acc, As + cur, Bs + cur, wm, wn, g, t);
        if (more) {
            LA::store(ra, As + nxt);
            LB::store(rb, Bs + nxt);
        }
        __syncthreads();
    }

    store_tile(acc, M, N, alpha, beta, C, ldc, m0, n0, wm, wn, g, t);
}

// extern "C" entry points PRE<precision>_<A: n|t><B: n|t> of a kernel body (matmul_tc here, matmul_pipe below).
// Grid (ceil(N/128), ceil(M/128), batch), block 256.
#define MATMUL_ENTRY(NAME, BODY, P, TA, TB)                                                                     \
    extern "C" __global__ void __launch_bounds__(TC_THREADS) NAME(                                   \
        int M, int N, int K, float alpha, const float* A, int lda, long long strideA,                          \
        const float* B, int ldb, long long strideB, float beta, float* C, int ldc, long long strideC) {       \
        BODY<P, TA, TB>(M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC);             \
    }
#define MATMUL_ENTRIES(PRE, BODY)                                                                               \
    MATMUL_ENTRY(PRE##tf32_nn, BODY, Tf32, false, false) MATMUL_ENTRY(PRE##tf32_nt, BODY, Tf32, false, true)   \
    MATMUL_ENTRY(PRE##tf32_tn, BODY, Tf32, true, false) MATMUL_ENTRY(PRE##tf32_tt, BODY, Tf32, true, true)     \
    MATMUL_ENTRY(PRE##bf16_nn, BODY, Bf16, false, false) MATMUL_ENTRY(PRE##bf16_nt, BODY, Bf16, false, true)   \
    MATMUL_ENTRY(PRE##bf16_tn, BODY, Bf16, true, false) MATMUL_ENTRY(PRE##bf16_tt, BODY, Bf16, true, true)
MATMUL_ENTRIES(matmul_, matmul_tc)

// ---------------------------------------------------------------------------------------------------------------
// v3: the global-to-shared path of v2 replaced by cp.async, TC_STAGES deep (3; bench/cuda/matmul_tune.cu builds 4).
// Tiles travel as FP32 straight into shared memory (no staging registers, no barrier between a tile's loads and its
// use beyond the pipeline's one per K step), K step 32, and are rounded to TF32 (cvt.rna, as v2) or packed to BF16
// (RN, as v2) as the fragments are read, so the products round exactly as v2's. Shared layout per operand: [r][k]
// (row stride 36 floats) where the operand is K-contiguous in memory, else [k][r] (row stride 136): either way a
// 16-byte chunk of global memory lands as one 16-byte chunk, and both strides leave the fragment reads free of bank
// conflicts. Dynamic shared memory: STAGES x 2 x 4608 floats = 110,592 bytes for 3 stages (opt-in above 48 KB).
#ifndef TC_STAGES
#define TC_STAGES 3
#endif
#define PIPE_BK 32
#define PIPE_TILE 4608      // floats per operand and stage: max(128 x 36, 32 x 136)

__device__ __forceinline__ void cp_async16(float* smem, const float* gmem, int bytes) {   // bytes < 16: zero-filled
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async4(float* smem, const float* gmem, int bytes) {
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_stages() { asm volatile("cp.async.wait_group %0;\n" :: "n"(TC_STAGES - 2)); }

// One operand's (128 x 32) tile, rows r0.., k0.., into shared memory. KCONTIG: element (r, k) at p[r ld + k] in
// memory and at s[r 36 + k] in shared; else at p[k ld + r] and s[k 136 + r]. 1024 chunks of 4 floats, 4 per thread.
template <bool KCONTIG>
__device__ __forceinline__ void pipe_load(float* s, const float* p, long long ld, int r0, int k0, int R, int K, bool vec) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int c = threadIdx.x + i * TC_THREADS;
        int r, k, sOff;
        if (KCONTIG) { r = c >> 3; k = (c & 7) * 4; sOff = r * 36 + k; }
        else { k = c >> 5; r = (c & 31) * 4; sOff = k * 136 + r; }
        int gr = r0 + r, gk = k0 + k;
        // valid floats of the chunk along the contiguous axis (0 when the other index is outside)
        int n = KCONTIG ? (gr < R ? min(4, max(0, K - gk)) : 0) : (gk < K ? min(4, max(0, R - gr)) : 0);
        const float* g = n > 0 ? (KCONTIG ? p + gr * ld + gk : p + gk * ld + gr) : p;   // no address outside when n = 0
        if (vec) cp_async16(s + sOff, g, 4 * n);
        else
#pragma unroll
            for (int j = 0; j < 4; j++) cp_async4(s + sOff + j, j < n ? g + j : p, j < n ? 4 : 0);
    }
}

// Element (r, k) of a shared tile.
template <bool KCONTIG>
__device__ __forceinline__ float pipe_at(const float* s, int r, int k) { return KCONTIG ? s[r * 36 + k] : s[k * 136 + r]; }

__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    __nv_bfloat16 l = __float2bfloat16_rn(lo), h = __float2bfloat16_rn(hi);
    return (unsigned)*reinterpret_cast<unsigned short*>(&l) | ((unsigned)*reinterpret_cast<unsigned short*>(&h) << 16);
}

// The warp's 64 x 32 tile times one PIPE_BK slice; fragments as in warp_mma (g = lane / 4, t = lane % 4).
template <class P, bool AK, bool BK>
__device__ __forceinline__ void pipe_mma(float (&acc)[TC_MT][TC_NT][4], const float* As, const float* Bs, int wm, int wn, int g, int t) {
    if constexpr (sizeof(typename P::T) == 4) {                    // TF32, k8 steps
#pragma unroll
        for (int kk = 0; kk < PIPE_BK; kk += 8) {
            unsigned a[TC_MT][4], b[TC_NT][2];
#pragma unroll
            for (int i = 0; i < TC_MT; i++) {
                int r = wm * TC_WM + i * 16 + g;
                a[i][0] = Tf32::convert(pipe_at<AK>(As, r, kk + t));
                a[i][1] = Tf32::convert(pipe_at<AK>(As, r + 8, kk + t));
                a[i][2] = Tf32::convert(pipe_at<AK>(As, r, kk + t + 4));
                a[i][3] = Tf32::convert(pipe_at<AK>(As, r + 8, kk + t + 4));
            }
#pragma unroll
            for (int j = 0; j < TC_NT; j++) {
                int n = wn * TC_WN + j * 8 + g;
                b[j][0] = Tf32::convert(pipe_at<BK>(Bs, n, kk + t));
                b[j][1] = Tf32::convert(pipe_at<BK>(Bs, n, kk + t + 4));
            }
#pragma unroll
            for (int i = 0; i < TC_MT; i++)
#pragma unroll
                for (int j = 0; j < TC_NT; j++) mma_tf32(acc[i][j], a[i], b[j]);
        }
    } else {                                                        // BF16, k16 steps
#pragma unroll
        for (int kk = 0; kk < PIPE_BK; kk += 16) {
            unsigned a[TC_MT][4], b[TC_NT][2];
#pragma unroll
            for (int i = 0; i < TC_MT; i++) {
                int r = wm * TC_WM + i * 16 + g, k = kk + 2 * t;
                a[i][0] = pack_bf16(pipe_at<AK>(As, r, k), pipe_at<AK>(As, r, k + 1));
                a[i][1] = pack_bf16(pipe_at<AK>(As, r + 8, k), pipe_at<AK>(As, r + 8, k + 1));
                a[i][2] = pack_bf16(pipe_at<AK>(As, r, k + 8), pipe_at<AK>(As, r, k + 9));
                a[i][3] = pack_bf16(pipe_at<AK>(As, r + 8, k + 8), pipe_at<AK>(As, r + 8, k + 9));
            }
#pragma unroll
            for (int j = 0; j < TC_NT; j++) {
                int n = wn * TC_WN + j * 8 + g, k = kk + 2 * t;
                b[j][0] = pack_bf16(pipe_at<BK>(Bs, n, k), pipe_at<BK>(Bs, n, k + 1));
                b[j][1] = pack_bf16(pipe_at<BK>(Bs, n, k + 8), pipe_at<BK>(Bs, n, k + 9));
            }
#pragma unroll
            for (int i = 0; i < TC_MT; i++)
#pragma unroll
                for (int j = 0; j < TC_NT; j++) mma_bf16(acc[i][j], a[i], b[j]);
        }
    }
}

template <class P, bool TA, bool TB>
__device__ __forceinline__ void matmul_pipe(int M, int N, int K, float alpha, const float* A, int lda, long long strideA,
                                            const float* B, int ldb, long long strideB, float beta, float* C, int ldc, long long strideC) {
    extern __shared__ __align__(16) float smem[];   // [stage][A | B][PIPE_TILE]
    constexpr bool AK = !TA, BK = TB;                 // K-contiguous operands
    A += blockIdx.z * strideA; B += blockIdx.z * strideB; C += blockIdx.z * strideC;
    int m0 = blockIdx.y * TC_BM, n0 = blockIdx.x * TC_BN;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int wm = warp >> 2, wn = warp & 3, g = lane >> 2, t = lane & 3;
    bool vecA = (lda & 3) == 0 && (reinterpret_cast<unsigned long long>(A) & 15) == 0;
    bool vecB = (ldb & 3) == 0 && (reinterpret_cast<unsigned long long>(B) & 15) == 0;

    float acc[TC_MT][TC_NT][4];
    zero_tile(acc);

    int ktiles = (K + PIPE_BK - 1) / PIPE_BK;
    auto load = [&](int kt) {                         // tile kt into stage kt % STAGES; one commit group per call
        if (kt < ktiles) {
            float* s = smem + (kt % TC_STAGES) * 2 * PIPE_TILE;
            pipe_load<AK>(s, A, lda, m0, kt * PIPE_BK, M, K, vecA);
            pipe_load<BK>(s + PIPE_TILE, B, ldb, n0, kt * PIPE_BK, N, K, vecB);
        }
        cp_async_commit();                            // an empty group past the end keeps the count uniform
    };
#pragma unroll
    for (int s = 0; s < TC_STAGES - 1; s++) load(s);
    for (int kt = 0; kt < ktiles; kt++) {
        cp_async_wait_stages();                       // this thread's copies of tile kt have landed
        __syncthreads();                              // everyone's have; and stage (kt - 1) % STAGES is free
        load(kt + TC_STAGES - 1);
        const float* s = smem + (kt % TC_STAGES) * 2 * PIPE_TILE;
        pipe_mma<P, AK, BK>(acc, s, s + PIPE_TILE, wm, wn, g, t);
    }

    store_tile(acc, M, N, alpha, beta, C, ldc, m0, n0, wm, wn, g, t);
}

// Entry points matmul_pipe_<precision>_<A><B>; grid as v2's, block 256, dynamic shared memory PIPE_SMEM_BYTES.
#define PIPE_SMEM_BYTES (TC_STAGES * 2 * PIPE_TILE * 4)
MATMUL_ENTRIES(matmul_pipe_, matmul_pipe)
