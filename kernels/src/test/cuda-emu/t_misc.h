#include <random>
static int fails = 0;
static void cmp(const char* what, const std::vector<float>& ref, const std::vector<float>& got, double atol, double rtol) {
    for (size_t i = 0; i < ref.size(); i++) {
        double e = std::fabs((double)got[i] - ref[i]);
        bool bothnan = std::isnan(ref[i]) && std::isnan(got[i]);
        if (!bothnan && !(e <= atol + rtol * std::fabs(ref[i]))) { fails++; printf("FAIL %s elem %zu got %.9g want %.9g\n", what, i, got[i], ref[i]); return; }
    }
}
static std::mt19937 rng(5);
static std::vector<float> gauss(size_t n, float s = 1) { std::normal_distribution<float> nd; std::vector<float> v(n); for (auto& x : v) x = s * nd(rng); return v; }
static std::vector<float> intsv(size_t n, int lo, int hi) { std::uniform_int_distribution<int> d(lo, hi); std::vector<float> v(n); for (auto& x : v) x = (float)d(rng); return v; }
