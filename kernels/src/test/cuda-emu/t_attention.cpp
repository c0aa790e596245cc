#include "src/attention.cu"
#include <random>
int fails = 0;
void ref_fwd(std::vector<float>& out, std::vector<float>& lse, const std::vector<float>& q, const std::vector<float>& k,
             const std::vector<float>& v, int BH, int T, int hd, float scale) {
    std::vector<double> p(T);
    for (int b = 0; b < BH; b++) for (int i = 0; i < T; i++) {
        double mx = -1e300;
        for (int j = 0; j < T; j++) { double d = 0; for (int c = 0; c < hd; c++) d += (double)q[(b*T+i)*hd+c] * k[(b*T+j)*hd+c]; p[j] = scale * d; mx = std::max(mx, p[j]); }
        double s = 0; for (int j = 0; j < T; j++) { p[j] = std::exp(p[j] - mx); s += p[j]; }
        for (int c = 0; c < hd; c++) { double o = 0; for (int j = 0; j < T; j++) o += p[j] / s * v[(b*T+j)*hd+c]; out[(b*T+i)*hd+c] = (float)o; }
        lse[b*T+i] = (float)(mx + std::log(s));
    }
}
void ref_bwd(std::vector<float>& dq, std::vector<float>& dk, std::vector<float>& dv, const std::vector<float>& dout,
             const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, const std::vector<float>& out,
             const std::vector<float>& lse, int BH, int T, int hd, float scale) {
    for (int b = 0; b < BH; b++) for (int i = 0; i < T; i++) {
        int qi = (b*T+i)*hd;
        double D = 0; for (int c = 0; c < hd; c++) D += (double)dout[qi+c] * out[qi+c];
        for (int j = 0; j < T; j++) {
            int kj = (b*T+j)*hd;
            double s = 0, dp = 0; for (int c = 0; c < hd; c++) { s += (double)q[qi+c]*k[kj+c]; dp += (double)dout[qi+c]*v[kj+c]; }
            double P = std::exp(scale * s - lse[b*T+i]);
            double ds = P * (dp - D);
            for (int c = 0; c < hd; c++) { dv[kj+c] += (float)(P * dout[qi+c]); dq[qi+c] += (float)(scale*ds*k[kj+c]); dk[kj+c] += (float)(scale*ds*q[qi+c]); }
        }
    }
}
void cmp(const char* what, int hd, int T, const std::vector<float>& ref, const std::vector<float>& got, double atol, double rtol) {
    for (size_t i = 0; i < ref.size(); i++) {
        double e = std::fabs((double)got[i] - ref[i]);
        if (!(e <= atol + rtol * std::fabs(ref[i]))) { fails++; printf("FAIL %s hd=%d T=%d elem %zu got %g want %g\n", what, hd, T, i, got[i], ref[i]); return; }
    }
}
template <int HD> void run(int BH, int T, std::mt19937& rng) {
    int n = BH * T * HD; float scale = 1.f / std::sqrt((float)HD);
    std::normal_distribution<float> nd;
    std::vector<float> q(n), k(n), v(n), dout(n);
    for (auto& x : q) x = 1.5f * nd(rng); for (auto& x : k) x = 1.5f * nd(rng); for (auto& x : v) x = nd(rng); for (auto& x : dout) x = nd(rng);
    std::vector<float> out(n), lse(BH * T), gout(n, NAN), glse(BH * T, NAN);
    ref_fwd(out, lse, q, k, v, BH, T, HD, scale);
    int tiles = (T + 15) / 16; unsigned grid = BH * tiles;
    emu_launch(dim3{grid, 1, 1}, 128, (80 * HD + 32 + 512) * 4, [&] { attention_forward<HD>(gout.data(), glse.data(), q.data(), k.data(), v.data(), T, scale); });
    cmp("out", HD, T, out, gout, 5e-5, 1e-4); cmp("lse", HD, T, lse, glse, 5e-5, 1e-5);
    std::vector<float> dq(n), dk(n), dv(n);
    for (auto& x : dq) x = nd(rng); for (auto& x : dk) x = nd(rng); for (auto& x : dv) x = nd(rng);
    std::vector<float> gq = dq, gk = dk, gv = dv, D(BH * T, NAN);
    ref_bwd(dq, dk, dv, dout, q, k, v, out, lse, BH, T, HD, scale);
    int rows = BH * T;
    emu_launch(dim3{(unsigned)((rows + 7) / 8), 1, 1}, 256, 0, [&] { attention_backward_dot_f32(D.data(), dout.data(), out.data(), rows, HD); });
    emu_launch(dim3{grid, 1, 1}, 128, (96 * HD + 64 + 512) * 4, [&] { attention_backward_dq<HD>(gq.data(), dout.data(), q.data(), k.data(), v.data(), lse.data(), D.data(), T, scale); });
    emu_launch(dim3{grid, 1, 1}, 128, (96 * HD + 64 + 64 + 1024) * 4, [&] { attention_backward_dkv<HD>(gk.data(), gv.data(), dout.data(), q.data(), k.data(), v.data(), lse.data(), D.data(), T, scale); });
    double a = 5e-5 * std::sqrt((double)T);
    cmp("dq", HD, T, dq, gq, a, 1e-4); cmp("dk", HD, T, dk, gk, a, 1e-4); cmp("dv", HD, T, dv, gv, 5e-5, 1e-4);
}
int main() {
    std::mt19937 rng(3);
    for (int T : {1, 17, 33, 50}) { run<32>(2, T, rng); run<64>(2, T, rng); run<80>(2, T, rng); run<128>(1, T, rng); }
    run<64>(1, 197, rng); run<80>(1, 197, rng);
    printf("attention: %d failures\n", fails);
    return fails != 0;
}
