#include "src/reduce.cu"
#include "t_misc.h"
void sum(int outer, int n, int inner, bool integers, int sms = 132) {
    auto x = integers ? intsv((size_t)outer * n * inner, -3, 3) : gauss((size_t)outer * n * inner);
    std::vector<float> ref(outer * inner), got(outer * inner, NAN);
    for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) { double s = 0; for (int j = 0; j < n; j++) s += x[((size_t)o * n + j) * inner + i]; ref[o * inner + i] = (float)s; }
    // launcher logic of CudaKernels.sum
    if (inner == 1) {
        int chunks = outer >= 2 * sms ? 1 : (int)std::min<long long>((n + 4095) / 4096, (4LL * sms + outer - 1) / outer);
        chunks = std::max(1, chunks); int chunk = (n + chunks - 1) / chunks; chunks = (n + chunk - 1) / chunk;
        if (chunks > 1) std::fill(got.begin(), got.end(), 0.f);
        emu_launch(dim3{(unsigned)chunks, (unsigned)std::min(outer, 65535), 1}, 256, 0, [&] { reduce_sum_rows_f32(got.data(), x.data(), outer, n, chunk, chunks > 1); });
    } else {
        int gx = (inner + 31) / 32, gy = std::min(outer, 65535); long long blocks = (long long)gx * gy;
        int chunks = blocks >= 2LL * sms ? 1 : (int)std::min(std::min<long long>((n + 63) / 64, 65535), (4LL * sms + blocks - 1) / blocks);
        chunks = std::max(1, chunks); int chunk = (n + chunks - 1) / chunks; chunks = (n + chunk - 1) / chunk;
        if (chunks > 1) std::fill(got.begin(), got.end(), 0.f);
        emu_launch(dim3{(unsigned)gx, (unsigned)gy, (unsigned)chunks}, 256, 0, [&] { reduce_sum_mid_f32(got.data(), x.data(), outer, n, inner, chunk, chunks > 1); });
    }
    cmp(integers ? "sum int" : "sum gauss", ref, got, integers ? 0 : 1e-4 * std::sqrt((double)n), integers ? 0 : 1e-6);
}
void mx(int outer, int n, int inner) {
    auto x = intsv((size_t)outer * n * inner, -5, 5);
    if (x.size() > 40) { x[17] = NAN; x[x.size() - 3] = NAN; }
    std::vector<float> ref(outer * inner), got(outer * inner, -7); std::vector<int> ra(outer * inner), ga(outer * inner, -7);
    for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) {
        size_t base = (size_t)o * n * inner + i; float best = x[base]; int bi = 0;
        for (int j = 1; j < n && !std::isnan(best); j++) { float v = x[base + (size_t)j * inner]; if (v > best || std::isnan(v)) { best = v; bi = j; } }
        ref[o * inner + i] = best; ra[o * inner + i] = bi;
    }
    if (inner == 1) emu_launch(dim3{(unsigned)((outer + 7) / 8), 1, 1}, 256, 0, [&] { reduce_max_rows_f32(got.data(), ga.data(), x.data(), outer, n); });
    else emu_launch(dim3{4, 1, 1}, 256, 0, [&] { reduce_max_mid_f32(got.data(), ga.data(), x.data(), outer, n, inner); });
    cmp("max", ref, got, 0, 0);
    if (ra != ga) { fails++; printf("FAIL argmax %d %d %d\n", outer, n, inner); }
}
int main() {
    int shapes[][3] = {{1, 1, 1}, {3, 7, 1}, {1, 100003, 1}, {300, 33, 1}, {7, 13, 5}, {2, 1000, 33}, {1, 5000, 70}, {1, 3, 1003}};
    for (auto& s : shapes) { sum(s[0], s[1], s[2], true); sum(s[0], s[1], s[2], false); }
    int ms[][3] = {{1, 1, 1}, {3, 7, 1}, {20, 1000, 1}, {4, 9, 5}, {2, 300, 33}};
    for (auto& s : ms) mx(s[0], s[1], s[2]);
    printf("reduce: %d failures\n", fails); return fails != 0;
}
