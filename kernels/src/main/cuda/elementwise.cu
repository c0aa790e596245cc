// Elementwise maps: the CUDA twin of mae.kernels.Elementwise.
//
// Op codes are the ordinals of the Java enums Elementwise.Unary and Elementwise.Binary (CudaKernels passes
// op.ordinal()); UNARY_COPY (-1) is the identity, used for strided copies.
//
// Broadcasting: chosen design is "contiguous fast path + a rank-4 strided kernel". The strided kernels take the
// output shape and each input's element strides as plain int parameters, padded to rank 4 on the left
// (CudaKernels merges adjacent dims so that any broadcast the tensor layer makes fits in 4). A stride of 0
// broadcasts. The output is always contiguous, as on the CPU. add_bias_f32 is the common (rows, C) + (C) case.
#include "common.cuh"

// Elementwise.Unary ordinals
#define UNARY_COPY (-1)
#define UNARY_NEG 0
#define UNARY_EXP 1
#define UNARY_LOG 2
#define UNARY_SQRT 3
#define UNARY_RSQRT 4
#define UNARY_TANH 5
#define UNARY_ERF 6
#define UNARY_ABS 7
#define UNARY_RELU 8
#define UNARY_SQUARE 9
#define UNARY_RECIPROCAL 10
// Elementwise.Binary ordinals
#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_POW 4
#define BINARY_MAX 5
#define BINARY_MIN 6

__device__ __forceinline__ float unary_op(int op, float x) {
    switch (op) {
        case UNARY_NEG: return -x;
        case UNARY_EXP: return expf(x);
        case UNARY_LOG: return logf(x);
        case UNARY_SQRT: return sqrtf(x);          // IEEE-rounded (-prec-sqrt=true, the nvcc default)
        case UNARY_RSQRT: return 1.f / sqrtf(x);   // like the CPU's 1/sqrt, not the 2-ulp rsqrtf
        case UNARY_TANH: return tanhf(x);
        case UNARY_ERF: return erff(x);            // exact erf (max 2 ulp), as GELU needs
        case UNARY_ABS: return fabsf(x);
        case UNARY_RELU: return x > 0.f ? x : 0.f; // NaN -> 0, as Java's x > 0 ? x : 0
        case UNARY_SQUARE: return x * x;
        case UNARY_RECIPROCAL: return 1.f / x;
        default: return x;                         // UNARY_COPY
    }
}

__device__ __forceinline__ float binary_op(int op, float a, float b) {
    switch (op) {
        case BINARY_ADD: return a + b;
        case BINARY_SUB: return a - b;
        case BINARY_MUL: return a * b;
        case BINARY_DIV: return a / b;
        case BINARY_POW: return powf(a, b);
        // Java's Math.max/min return NaN if either is NaN; fmaxf/fminf would return the other operand.
        case BINARY_MAX: return (a != a || b != b) ? CUDART_NAN_F : fmaxf(a, b);
        case BINARY_MIN: return (a != a || b != b) ? CUDART_NAN_F : fminf(a, b);
        default: return CUDART_NAN_F;
    }
}

// Rank-4 shape (s0..s3) and element strides of one input; returns the input offset of flat output index i.
__device__ __forceinline__ long long strided_offset(long long i, int s1, int s2, int s3,
                                                    int t0, int t1, int t2, int t3) {
    long long i3 = i % s3; i /= s3;
    long long i2 = i % s2; i /= s2;
    long long i1 = i % s1; i /= s1;
    return i * t0 + i1 * t1 + i2 * t2 + i3 * t3;
}

// out (n) = op(x (n)), contiguous.
extern "C" __global__ void unary_f32(float* out, const float* x, long long n, int op) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = unary_op(op, x[i]);
}

// out (s0, s1, s2, s3) contiguous = op(x viewed with strides x0..x3). op may be UNARY_COPY.
extern "C" __global__ void unary_strided_f32(float* out, const float* x, long long n, int op,
                                             int s0, int s1, int s2, int s3,
                                             int x0, int x1, int x2, int x3) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = unary_op(op, x[strided_offset(i, s1, s2, s3, x0, x1, x2, x3)]);
}

// out viewed with strides o0..o3 = x viewed with strides x0..x3, both over the shape (s0..s3): Elementwise.copyStrided
// (writing a slice of a larger tensor). The output view must not overlap itself (no zero output strides).
extern "C" __global__ void copy_strided_f32(float* out, const float* x, long long n,
                                            int s0, int s1, int s2, int s3,
                                            int o0, int o1, int o2, int o3,
                                            int x0, int x1, int x2, int x3) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[strided_offset(i, s1, s2, s3, o0, o1, o2, o3)] = x[strided_offset(i, s1, s2, s3, x0, x1, x2, x3)];
}

// out (n) = op(a (n), b (n)), contiguous.
extern "C" __global__ void binary_f32(float* out, const float* a, const float* b, long long n, int op) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = binary_op(op, a[i], b[i]);
}

// out (s0, s1, s2, s3) contiguous = op(a viewed with strides a0..a3, b viewed with strides b0..b3).
extern "C" __global__ void binary_strided_f32(float* out, const float* a, const float* b, long long n, int op,
                                              int s0, int s1, int s2, int s3,
                                              int a0, int a1, int a2, int a3,
                                              int b0, int b1, int b2, int b3) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = binary_op(op, a[strided_offset(i, s1, s2, s3, a0, a1, a2, a3)],
                               b[strided_offset(i, s1, s2, s3, b0, b1, b2, b3)]);
}

// out (rows, C) = x (rows, C) + bias (C). out may be x.
extern "C" __global__ void add_bias_f32(float* out, const float* x, const float* bias, int rows, int C) {
    long long n = (long long)rows * C;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = x[i] + bias[i % C];
}

// out (n) = value.
extern "C" __global__ void fill_f32(float* out, float value, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = value;
}
