// t_matmul_vec.cpp and t_matmul_pipe.cpp include this file with leading dimensions a multiple of 4 and 16-byte aligned
// batch strides, so that the float4 loads and 16-byte copies (not the scalar fallbacks) run.
#ifndef TM_PAD
#define TM_PAD 3        // leading dimension = natural + TM_PAD
#define TM_GAP 1        // batch strides: natural + TM_GAP * (5, 7, 11)
#endif
#include "src/matmul.cu"
#include <random>
typedef void (*TcFn)(int, int, int, float, const float*, int, long long, const float*, int, long long, float, float*, int, long long);
struct V { const char* name; TcFn f; bool ta, tb, bf16; };
#ifdef T_MATMUL_PIPE   // t_matmul_pipe.cpp: v3 (cp.async) in place of v2
static V variants[] = {{"pipe_tf32_nn", matmul_pipe_tf32_nn, 0, 0, 0}, {"pipe_tf32_nt", matmul_pipe_tf32_nt, 0, 1, 0},
    {"pipe_tf32_tn", matmul_pipe_tf32_tn, 1, 0, 0}, {"pipe_tf32_tt", matmul_pipe_tf32_tt, 1, 1, 0},
    {"pipe_bf16_nn", matmul_pipe_bf16_nn, 0, 0, 1}, {"pipe_bf16_nt", matmul_pipe_bf16_nt, 0, 1, 1},
    {"pipe_bf16_tn", matmul_pipe_bf16_tn, 1, 0, 1}, {"pipe_bf16_tt", matmul_pipe_bf16_tt, 1, 1, 1}};
static const size_t TC_SMEM = PIPE_SMEM_BYTES;
#else
static V variants[] = {{"tf32_nn", matmul_tf32_nn, 0, 0, 0}, {"tf32_nt", matmul_tf32_nt, 0, 1, 0}, {"tf32_tn", matmul_tf32_tn, 1, 0, 0},
    {"tf32_tt", matmul_tf32_tt, 1, 1, 0}, {"bf16_nn", matmul_bf16_nn, 0, 0, 1}, {"bf16_nt", matmul_bf16_nt, 0, 1, 1},
    {"bf16_tn", matmul_bf16_tn, 1, 0, 1}, {"bf16_tt", matmul_bf16_tt, 1, 1, 1}};
static const size_t TC_SMEM = 0;
#endif
int fails = 0;
void ref(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    for (int m = 0; m < M; m++) for (int n = 0; n < N; n++) {
        double acc = 0;
        for (int k = 0; k < K; k++) acc += (double)(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
        float& c = C[m * ldc + n];
        c = (float)(alpha * acc + (beta == 0 ? 0 : beta * c));
    }
}
void check(int M, int N, int K, int batch, bool integers, std::mt19937& rng) {
    for (int vi = -2; vi < 8; vi++) {
        bool simt = vi < 0;
        bool ta = simt ? (vi == -1) : variants[vi].ta, tb = simt ? (vi == -1) : variants[vi].tb;
        int pad = TM_PAD, lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
        long long sA = (long long)(ta ? K : M) * lda + 5 * TM_GAP, sB = (long long)(tb ? N : K) * ldb + 7 * TM_GAP, sC = (long long)M * ldc + 11 * TM_GAP;
        std::vector<float> A(sA * batch), B(sB * batch), C(sC * batch);
        std::normal_distribution<float> nd; std::uniform_int_distribution<int> id(-4, 4);
        for (auto* v : {&A, &B, &C}) for (auto& x : *v) x = integers ? (float)id(rng) : nd(rng);
        float alpha = integers ? 2.f : 0.7f, beta = integers ? -1.f : 0.3f;
        std::vector<float> R = C;
        for (int b = 0; b < batch; b++) ref(ta, tb, M, N, K, alpha, A.data() + b * sA, lda, B.data() + b * sB, ldb, beta, R.data() + b * sC, ldc);
        std::vector<float> G = C;
        if (simt) {
            dim3 g{(unsigned)((N + 63) / 64), (unsigned)((M + 63) / 64), (unsigned)batch};
            emu_launch(g, 256, 0, [&] { matmul_f32_simt(ta, tb, M, N, K, alpha, A.data(), lda, sA, B.data(), ldb, sB, beta, G.data(), ldc, sC); });
        } else {
            dim3 g{(unsigned)((N + 127) / 128), (unsigned)((M + 127) / 128), (unsigned)batch};
            emu_launch(g, 256, TC_SMEM, [&] { variants[vi].f(M, N, K, alpha, A.data(), lda, sA, B.data(), ldb, sB, beta, G.data(), ldc, sC); });
        }
        double u = simt ? std::ldexp(1.0, -24) : (vi >= 4 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11));
        double tol = integers ? 0 : 0.7 * (simt ? 6 * K * u : 6 * u * std::sqrt((double)K)) + 1e-6;
        double worst = 0; long long wi = -1;
        for (long long i = 0; i < (long long)G.size(); i++) {
            double e = std::fabs((double)G[i] - R[i]) - tol - 2.5e-7 * std::fabs(R[i]);
            if (!(e <= worst)) { worst = std::isnan(e) ? 1e30 : e; wi = i; }
        }
        const char* nm = simt ? (vi == -1 ? "simt_tt" : "simt_nn") : variants[vi].name;
        if (wi >= 0) { fails++; printf("FAIL %s M=%d N=%d K=%d b=%d int=%d: elem %lld got %g want %g\n", nm, M, N, K, batch, integers, wi, G[wi], R[wi]); }
    }
}
int main() {
    std::mt19937 rng(1);
    int sizes[][3] = {{1, 1, 1}, {7, 5, 3}, {1, 17, 33}, {65, 129, 31}, {128, 128, 16}, {130, 250, 77}, {33, 16, 0}, {17, 140, 40}, {65, 129, 36}};
    for (auto& s : sizes) for (int integers = 1; integers >= 0; integers--) check(s[0], s[1], s[2], 1, integers, rng);
    check(50, 50, 64, 2, false, rng);
    printf("matmul: %d failures\n", fails);
    return fails != 0;
}
