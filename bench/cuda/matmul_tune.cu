// matmul.cu's v2 and v3 (matmul_pipe_*) timed on the GPU at the MAE ViT-B shapes, one build per set of macros:
//   nvcc -std=c++17 -O3 -arch=sm_90 [-DTC_STAGES=4] -o tune bench/cuda/matmul_tune.cu && ./tune LABEL
// Prints one line per (version, layout, precision, shape): milliseconds (median of 5 x 10 launches after 3, CUDA
// events), TFLOP/s, and the error of the first 2^20 outputs against the FP32 kernel: max |x - ref| / max |ref| (the
// output is poisoned with NaN first, so an unwritten element shows). `bash bench/gpu-check.sh --tune` runs the
// builds on the GPU machine (carried in .tune/ or built there). Its first run (2026-12-04, H200) chose v3 with
// 3 stages and v2's float4 loads: bench/results/2026-12-04-nvidia-h200-matmul-tune.md.
#include "../../kernels/src/main/cuda/matmul.cu"
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <cmath>
#include <string>

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__); exit(1); } } while (0)

__global__ void fill(float* p, long long n, unsigned seed) {   // uniform in [-1, 1), a hash of the index
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        unsigned x = (unsigned)i * 2654435761u ^ seed * 0x9E3779B9u;
        x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
        p[i] = (x >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
}

typedef void (*Kernel)(int, int, int, float, const float*, int, long long, const float*, int, long long, float, float*, int, long long);

struct Layout { const char* name; bool ta, tb; Kernel tf32, bf16; };

int main(int argc, char** argv) {
    const char* label = argc > 1 ? argv[1] : "build";
    if (std::string(label) == "--probe") { CK(cudaFree(0)); return 0; }   // starts, and finds the device
    struct Version { const char* name; int smem; Layout layouts[3]; };
    Version versions[] = {
        {"v2", 0, {{"nt", false, true, matmul_tf32_nt, matmul_bf16_nt},       // forward: X W^T
                   {"nn", false, false, matmul_tf32_nn, matmul_bf16_nn},      // dX = dY W
                   {"tn", true, false, matmul_tf32_tn, matmul_bf16_tn}}},     // dW = dY^T X
        {"v3", PIPE_SMEM_BYTES, {{"nt", false, true, matmul_pipe_tf32_nt, matmul_pipe_bf16_nt},
                                 {"nn", false, false, matmul_pipe_tf32_nn, matmul_pipe_bf16_nn},
                                 {"tn", true, false, matmul_pipe_tf32_tn, matmul_pipe_bf16_tn}}}};
    for (Layout& L : versions[1].layouts)   // v3's dynamic shared memory is above the default 48 KB
        for (Kernel k : {L.tf32, L.bf16}) CK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, PIPE_SMEM_BYTES));
    // (M, N, K) of the forward's products at ViT-B, batch 64 visible tokens (64 x 50 = 3200 rows) and 256 x 50
    int shapes[][3] = {{12800, 2304, 768}, {12800, 768, 768}, {12800, 3072, 768}, {12800, 768, 3072}, {4096, 4096, 4096}};
    long long maxElems = 12800LL * 3072 + 4096LL * 4096;
    float *A, *B, *C, *R;
    CK(cudaMalloc(&A, maxElems * 4)); CK(cudaMalloc(&B, maxElems * 4)); CK(cudaMalloc(&C, maxElems * 4)); CK(cudaMalloc(&R, maxElems * 4));
    fill<<<1024, 256>>>(A, maxElems, 1); fill<<<1024, 256>>>(B, maxElems, 2);
    CK(cudaGetLastError());
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    for (Version& V : versions)
    for (Layout& L : V.layouts)
        for (auto& s : shapes) {
            int M = s[0], N = s[1], K = s[2];
            if (L.ta) { std::swap(M, K); }   // dW = dY^T X: (K x M)^T ... keep sizes: M = out features
            int lda = L.ta ? M : K, ldb = L.tb ? K : N;
            dim3 grid((N + 127) / 128, (M + 127) / 128, 1);
            matmul_f32_simt<<<dim3((N + 63) / 64, (M + 63) / 64, 1), 256>>>(L.ta, L.tb, M, N, K, 1.f, A, lda, 0, B, ldb, 0, 0.f, R, N, 0);
            CK(cudaDeviceSynchronize());
            size_t n = std::min<size_t>((size_t)M * N, 1 << 20);
            std::vector<float> ref(n), got(n);
            CK(cudaMemcpy(ref.data(), R, n * 4, cudaMemcpyDeviceToHost));
            for (int prec = 0; prec < 2; prec++) {
                Kernel k = prec == 0 ? L.tf32 : L.bf16;
                CK(cudaMemset(C, 0xFF, (size_t)M * N * 4));   // NaN: every output must be written
                auto run = [&] { k<<<grid, 256, V.smem>>>(M, N, K, 1.f, A, lda, 0, B, ldb, 0, 0.f, C, N, 0); };
                for (int i = 0; i < 3; i++) run();
                CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
                std::vector<float> ms;
                for (int rep = 0; rep < 5; rep++) {
                    cudaEventRecord(e0);
                    for (int i = 0; i < 10; i++) run();
                    cudaEventRecord(e1); cudaEventSynchronize(e1);
                    float t; cudaEventElapsedTime(&t, e0, e1); ms.push_back(t / 10);
                }
                std::sort(ms.begin(), ms.end());
                CK(cudaMemcpy(got.data(), C, n * 4, cudaMemcpyDeviceToHost));
                double num = 0, den = 0;
                for (size_t i = 0; i < n; i++) { num = std::max(num, (double)std::fabs(got[i] - ref[i])); den = std::max(den, (double)std::fabs(ref[i])); }
                bool nan = false;
                for (size_t i = 0; i < n; i++) if (std::isnan(got[i])) nan = true;
                double flop = 2.0 * M * N * K;
                double bound = prec == 0 ? 2e-3 : 2e-2;   // v2 read 2.4-2.9e-4 (TF32) and 2.0-2.2e-3 (BF16) against FP32
                printf("%-8s %s %s %-4s %6dx%-5dx%-5d %8.3f ms %7.1f TFLOP/s  err %.2e%s\n", label, V.name, L.name, prec == 0 ? "TF32" : "BF16",
                       M, N, K, ms[2], flop / ms[2] / 1e9, num / den, nan ? "  NaN: WRONG" : num / den > bound ? "  WRONG" : "");
            }
        }
    return 0;
}
