// Shared helpers for the CUDA kernels of mae.kernels (included by every .cu; part of SOURCES.sha256).
// Conventions, as in the CPU reference (mae.kernels.*): flat row-major float buffers, outputs first, then
// inputs, then sizes; backward kernels ADD into gradients. Sizes are int (< 2^31 elements per buffer);
// element offsets are computed in long long where a product of sizes can pass 2^31.
#pragma once
#include <cuda_runtime.h>
#include <math_constants.h>

#define WARP 32
#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

// Sum over a whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` is __shared__ float[32]. Contains __syncthreads: call from all threads of the block.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();                 // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nw ? scratch[lane] : 0.f;
    return warp_sum(v);
}
