// Minimal CUDA-on-CPU emulator for checking the kernels of mae.kernels without a GPU (see run.sh): one std::thread
// per CUDA thread, blocks one at a time, std::barrier for __syncthreads / __syncwarp, shuffles and mma.sync through
// per-warp exchange slots. Shared memory: static -> C++ static (blocks are sequential); dynamic -> a NaN-filled buffer.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
using std::min; using std::max;
struct dim3 { unsigned x = 1, y = 1, z = 1; };
extern thread_local dim3 threadIdx;
extern dim3 blockIdx, blockDim, gridDim;
extern std::barrier<>* g_block_bar;
extern std::barrier<>* g_warp_bar[32];
extern uint64_t g_slot[1024][12];
extern unsigned char* emu_dyn_smem;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static
#define CUDART_INF_F INFINITY
#define CUDART_NAN_F NAN
struct alignas(16) float4 { float x, y, z, w; };
inline void __syncthreads() { g_block_bar->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { g_warp_bar[threadIdx.x / 32]->arrive_and_wait(); }
template <class T> T __shfl_xor_sync(unsigned, T v, int o) {
    unsigned t = threadIdx.x;
    uint64_t bits = 0; std::memcpy(&bits, &v, sizeof(T));
    g_slot[t][0] = bits;
    __syncwarp();
    unsigned src = (t & ~31u) | ((t & 31u) ^ (unsigned)o);
    uint64_t b = g_slot[src][0];
    __syncwarp();
    T r; std::memcpy(&r, &b, sizeof(T)); return r;
}
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __fsub_rn(float a, float b) { volatile float r = a - b; return r; }
inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }
struct __nv_bfloat16 { uint16_t bits; };
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    uint32_t u; std::memcpy(&u, &f, 4);
    uint32_t lsb = (u >> 16) & 1; u += 0x7fff + lsb;   // RNE (no NaN handling needed here)
    return __nv_bfloat16{(uint16_t)(u >> 16)};
}
inline float bf16_to_float(uint16_t b) { uint32_t u = (uint32_t)b << 16; float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned emu_cvt_tf32(float x) {           // cvt.rna.tf32.f32: nearest, ties away; low 13 bits zero
    uint32_t u; std::memcpy(&u, &x, 4); u = (u + 0x1000u) & ~0x1fffu; return u;
}
inline float tf32_to_float(unsigned u) { u &= ~0x1fffu; float f; std::memcpy(&f, &u, 4); return f; }
// cp.async (cp_size bytes, of which src_size are read and the rest zero-filled), done at once.
inline void emu_cp_async(void* dst, const void* src, int cp_size, int src_size) {
    std::memcpy(dst, src, src_size);
    std::memset((char*)dst + src_size, 0, cp_size - src_size);
}
// mma.sync m16n8k8 tf32 / m16n8k16 bf16, from the PTX ISA fragment tables, g = lane/4, t = lane%4.
inline void emu_mma(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], bool bf16) {
    unsigned t0 = threadIdx.x;
    for (int i = 0; i < 4; i++) g_slot[t0][i] = a[i];
    for (int i = 0; i < 2; i++) g_slot[t0][4 + i] = b[i];
    __syncwarp();
    unsigned base = t0 & ~31u, lane = t0 & 31u;
    int K = bf16 ? 16 : 8;
    float A[16][16], B[16][8];
    for (unsigned l = 0; l < 32; l++) {
        int g = l >> 2, t = l & 3;
        const uint64_t* s = g_slot[base + l];
        if (!bf16) {
            A[g][t] = tf32_to_float(s[0]); A[g + 8][t] = tf32_to_float(s[1]);
            A[g][t + 4] = tf32_to_float(s[2]); A[g + 8][t + 4] = tf32_to_float(s[3]);
            B[t][g] = tf32_to_float(s[4]); B[t + 4][g] = tf32_to_float(s[5]);
        } else {
            for (int h = 0; h < 2; h++) {   // element i = 2*reg + h
                A[g][2 * t + h] = bf16_to_float((uint16_t)(s[0] >> (16 * h)));
                A[g + 8][2 * t + h] = bf16_to_float((uint16_t)(s[1] >> (16 * h)));
                A[g][2 * t + 8 + h] = bf16_to_float((uint16_t)(s[2] >> (16 * h)));
                A[g + 8][2 * t + 8 + h] = bf16_to_float((uint16_t)(s[3] >> (16 * h)));
                B[2 * t + h][g] = bf16_to_float((uint16_t)(s[4] >> (16 * h)));
                B[2 * t + 8 + h][g] = bf16_to_float((uint16_t)(s[5] >> (16 * h)));
            }
        }
    }
    __syncwarp();
    int g = lane >> 2, t = lane & 3;
    for (int c = 0; c < 4; c++) {
        int row = g + (c >> 1) * 8, col = 2 * t + (c & 1);
        double acc = d[c];
        for (int k = 0; k < K; k++) acc += (double)A[row][k] * B[k][col];
        d[c] = (float)acc;
    }
}
void emu_launch(dim3 grid, unsigned block, size_t smem, const std::function<void()>& body);
