#include "src/elementwise.cu"
#include "src/gelu.cu"
#include "src/gather.cu"
#include "src/adamw.cu"
#include "t_misc.h"
int main() {
    // strided binary: a (4,5,6) transposed view (1,4,20), b (4,1,6) strides (6,0,1)
    { int s[4] = {1, 4, 5, 6}; auto a = gauss(120), b = gauss(24); std::vector<float> ref(120), got(120, NAN);
      for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) for (int k = 0; k < 6; k++) ref[(i*5+j)*6+k] = a[i*1 + j*4 + k*20] * b[i*6 + k];
      emu_launch(dim3{1, 1, 1}, 256, 0, [&] { binary_strided_f32(got.data(), a.data(), b.data(), 120, BINARY_MUL, s[0], s[1], s[2], s[3], 0, 1, 4, 20, 0, 6, 0, 1); });
      cmp("binary strided", ref, got, 0, 0); }
    { // copy_strided: x (4,6) transposed view of (6,4) into columns 2..7 of rows 1..4 of a (5,9) buffer
      auto x = gauss(24), out = gauss(45); auto ref = out;
      for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) ref[11 + i * 9 + j] = x[i + j * 4];
      emu_launch(dim3{1, 1, 1}, 256, 0, [&] { copy_strided_f32(out.data() + 11, x.data(), 24, 1, 1, 4, 6, 0, 0, 9, 1, 0, 0, 1, 4); });
      cmp("copy strided", ref, out, 0, 0); }
    { auto x = gauss(1001, 3); std::vector<float> ref(1001), got(1001, NAN);
      for (int i = 0; i < 1001; i++) ref[i] = (float)(0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0))));
      emu_launch(dim3{2, 1, 1}, 256, 0, [&] { gelu_forward_f32(got.data(), x.data(), 1001); });
      cmp("gelu", ref, got, 2e-6, 2e-6);
      auto dout = gauss(1001), dx = gauss(1001); auto dxr = dx;
      for (int i = 0; i < 1001; i++) { double xi = x[i], cdf = 0.5 * (1 + std::erf(xi / std::sqrt(2.0))), pdf = std::exp(-0.5 * xi * xi) / std::sqrt(2 * M_PI); dxr[i] = (float)(dout[i] * (cdf + xi * pdf)); }
      emu_launch(dim3{2, 1, 1}, 256, 0, [&] { gelu_backward_f32(dx.data(), dout.data(), x.data(), 1001); });
      cmp("gelu bwd", dxr, dx, 1e-5, 2e-6); }
    { // gather / scatter with idxInner 1 and inner
      for (int idxInner : {1, 3}) {
        int outer = 2, S = 10, J = 4, inner = 3; auto x = gauss(outer * S * inner); std::vector<int> idx(outer * J * idxInner);
        for (auto& i : idx) i = rng() % S;
        std::vector<float> ref(outer * J * inner), got(outer * J * inner, -1);
        for (int o = 0; o < outer; o++) for (int j = 0; j < J; j++) for (int i = 0; i < inner; i++) ref[(o*J+j)*inner+i] = x[(o*S + idx[(o*J+j)*idxInner + (idxInner == 1 ? 0 : i)])*inner + i];
        emu_launch(dim3{1, 1, 1}, 256, 0, [&] { gather_f32(got.data(), x.data(), idx.data(), outer, S, J, inner, idxInner); });
        cmp("gather", ref, got, 0, 0);
        auto dout = intsv(ref.size(), -4, 4), dx = intsv(x.size(), -4, 4); auto dxr = dx;
        for (int o = 0; o < outer; o++) for (int j = 0; j < J; j++) for (int i = 0; i < inner; i++) dxr[(o*S + idx[(o*J+j)*idxInner + (idxInner == 1 ? 0 : i)])*inner + i] += dout[(o*J+j)*inner+i];
        emu_launch(dim3{1, 1, 1}, 256, 0, [&] { scatter_add_f32(dx.data(), dout.data(), idx.data(), outer, S, J, inner, idxInner); });
        cmp("scatter", dxr, dx, 0, 0);
        // a bad index (the host checks first; this is the kernel's guard): NaN out, nothing scattered
        idx[0] = 17; auto before = dx;
        emu_launch(dim3{1, 1, 1}, 256, 0, [&] { gather_f32(got.data(), x.data(), idx.data(), outer, S, J, inner, idxInner); });
        if (!std::isnan(got[0])) { fails++; printf("FAIL bad index gathered %g, not NaN\n", got[0]); }
        idx[0] = -1; std::fill(dout.begin(), dout.end(), 0.f); dout[0] = 1;
        emu_launch(dim3{1, 1, 1}, 256, 0, [&] { scatter_add_f32(dx.data(), dout.data(), idx.data(), outer, S, J, inner, idxInner); });
        cmp("scatter bad index", before, dx, 0, 0);
      }
    }
    { int n = 1003; auto p = gauss(n); std::vector<float> m(n), v(n); auto gp = p, gm = m, gv = v;
      for (int t = 1; t <= 3; t++) { auto g = gauss(n, 0.1f);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.05f;
        float bc1 = (float)(1 - std::pow((double)b1, t)), bc2 = (float)(1 - std::pow((double)b2, t)), step = lr / bc1, bc2s = (float)std::sqrt((double)bc2), decay = 1 - lr * wd;
        for (int i = 0; i < n; i++) { volatile float gi = g[i]; volatile float mi = b1 * m[i]; mi = mi + (1 - b1) * gi; m[i] = mi; volatile float t1 = (1 - b2) * gi; t1 = t1 * gi; volatile float vi = b2 * v[i]; vi = vi + t1; v[i] = vi;
          volatile float den = (float)std::sqrt((double)v[i]); den = den / bc2s; den = den + eps; volatile float pd = p[i] * decay; volatile float sm_ = step * m[i]; sm_ = sm_ / den; p[i] = pd - sm_; }
        emu_launch(dim3{4, 1, 1}, 256, 0, [&] { adamw_step_f32(gp.data(), g.data(), gm.data(), gv.data(), n, b1, b2, eps, step, bc2s, decay); }); }
      cmp("adamw p", p, gp, 0, 0); cmp("adamw m", m, gm, 0, 0); cmp("adamw v", v, gv, 0, 0); }
    printf("pointwise: %d failures\n", fails); return fails != 0;
}
