// Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)): the CUDA twin of mae.kernels.Gelu.
// erff is CUDA's full-precision erf (max 2 ulp); no tanh approximation.
#include "common.cuh"

#define GELU_INV_SQRT2 0.70710678118654752f
#define GELU_INV_SQRT_2PI 0.39894228040143268f

// out (n) = gelu(x (n)).
extern "C" __global__ void gelu_forward_f32(float* out, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float xi = x[i];
        out[i] = 0.5f * xi * (1.f + erff(xi * GELU_INV_SQRT2));
    }
}

// dx (n) = dout * (Phi(x) + x phi(x)), written (not added to), as Gelu.backward.
extern "C" __global__ void gelu_backward_f32(float* dx, const float* dout, const float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float xi = x[i];
        float cdf = 0.5f * (1.f + erff(xi * GELU_INV_SQRT2));
        float pdf = GELU_INV_SQRT_2PI * expf(-0.5f * xi * xi);
        dx[i] = dout[i] * (cdf + xi * pdf);
    }
}
