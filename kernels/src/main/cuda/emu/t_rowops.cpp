#include "src/softmax.cu"
#include "src/layernorm.cu"
#include "src/mse.cu"
#include "t_misc.h"
int main() {
    int sm[][2] = {{1, 1}, {3, 7}, {20, 197}, {5, 1000}};
    for (auto& s : sm) {
        int R = s[0], C = s[1]; auto x = gauss(R * C, 3); std::vector<float> ref(R * C), got(R * C, NAN);
        for (int r = 0; r < R; r++) { float m = -INFINITY; for (int c = 0; c < C; c++) m = std::max(m, x[r*C+c]); double t = 0; for (int c = 0; c < C; c++) t += std::exp((double)x[r*C+c] - m); for (int c = 0; c < C; c++) ref[r*C+c] = (float)(std::exp((double)x[r*C+c] - m) / t); }
        emu_launch(dim3{(unsigned)((R + 7) / 8), 1, 1}, 256, 0, [&] { softmax_forward_f32(got.data(), x.data(), R, C); });
        cmp("softmax", ref, got, 1e-8, 1e-5);
        auto dy = gauss(R * C), dx = gauss(R * C); auto dxr = dx;
        for (int r = 0; r < R; r++) { double d = 0; for (int c = 0; c < C; c++) d += (double)dy[r*C+c] * ref[r*C+c]; for (int c = 0; c < C; c++) dxr[r*C+c] += (float)(ref[r*C+c] * (dy[r*C+c] - d)); }
        emu_launch(dim3{(unsigned)((R + 7) / 8), 1, 1}, 256, 0, [&] { softmax_backward_f32(dx.data(), dy.data(), ref.data(), R, C); });
        cmp("softmax bwd", dxr, dx, 2e-6, 1e-5);
    }
    int ln[][2] = {{1, 1}, {3, 7}, {50, 768}, {197, 100}, {300, 33}};
    for (auto& s : ln) {
        int R = s[0], C = s[1]; float eps = 1e-6f;
        auto x = gauss(R * C, 2), w = gauss(C), b = gauss(C);
        std::vector<float> out(R * C), mean(R), rstd(R), go(R * C, NAN), gm(R, NAN), gr(R, NAN);
        for (int r = 0; r < R; r++) { double m = 0; for (int c = 0; c < C; c++) m += x[r*C+c]; m /= C; double v = 0; for (int c = 0; c < C; c++) v += (x[r*C+c]-m)*(x[r*C+c]-m); v /= C; float sr = (float)(1/std::sqrt(v + eps)); mean[r] = (float)m; rstd[r] = sr; for (int c = 0; c < C; c++) out[r*C+c] = (x[r*C+c] - (float)m) * sr * w[c] + b[c]; }
        emu_launch(dim3{(unsigned)((R + 7) / 8), 1, 1}, 256, 0, [&] { layernorm_forward_f32(go.data(), gm.data(), gr.data(), x.data(), w.data(), b.data(), R, C, eps); });
        cmp("ln mean", mean, gm, 1e-5, 1e-5); cmp("ln rstd", rstd, gr, 0, 5e-5); cmp("ln out", out, go, 2e-4, 5e-5);
        auto dout = gauss(R * C), dx = gauss(R * C), dw = gauss(C), db = gauss(C);
        auto dxr = dx, dwr = dw, dbr = db;
        for (int r = 0; r < R; r++) { double gm_ = 0, gx = 0; for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r], g = dout[r*C+c] * w[c]; gm_ += g; gx += g * xh; } gm_ /= C; gx /= C;
            for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r]; dxr[r*C+c] += (float)(rstd[r] * (dout[r*C+c]*w[c] - gm_ - xh*gx)); dwr[c] += (float)(dout[r*C+c]*xh); dbr[c] += dout[r*C+c]; } }
        int grid = std::min((R + 7) / 8, 2 * 132);
        for (int g2 : {grid, 2}) {
            auto dx2 = dx, dw2 = dw, db2 = db;
            emu_launch(dim3{(unsigned)g2, 1, 1}, 256, 2 * C * 4, [&] { layernorm_backward_f32(dx2.data(), dw2.data(), db2.data(), dout.data(), x.data(), w.data(), mean.data(), rstd.data(), R, C); });
            cmp("ln dx", dxr, dx2, 5e-5, 1e-4); cmp("ln dw", dwr, dw2, 1e-5 + 1e-6 * R, 1e-5); cmp("ln db", dbr, db2, 1e-5 + 1e-6 * R, 1e-5);
        }
        auto dx3 = dx; auto dxr3 = dx;
        for (int r = 0; r < R; r++) { double gm_ = 0, gx = 0; for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r], g = dout[r*C+c] * w[c]; gm_ += g; gx += g * xh; } gm_ /= C; gx /= C;
            for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r]; dxr3[r*C+c] += (float)(rstd[r] * (dout[r*C+c]*w[c] - gm_ - xh*gx)); } }
        emu_launch(dim3{(unsigned)grid, 1, 1}, 256, 0, [&] { layernorm_backward_f32(dx3.data(), nullptr, nullptr, dout.data(), x.data(), w.data(), mean.data(), rstd.data(), R, C); });
        cmp("ln dx alone", dxr3, dx3, 5e-5, 1e-4);
    }
    { // mse
        int R = 2 * 196, D = 768; auto pred = gauss(R * D), target = gauss(R * D); std::vector<float> mask(R);
        for (int i = 0; i < R; i++) mask[i] = (i * 7 % 4) ? 1.f : 0.f;
        std::vector<float> t(R * D), gt(R * D, NAN), row(R), grow(R, NAN), stats(2, NAN);
        for (int i = 0; i < R; i++) { double m = 0, v = 0; for (int d = 0; d < D; d++) m += target[i*D+d]; m /= D; for (int d = 0; d < D; d++) v += (target[i*D+d]-m)*(target[i*D+d]-m); v /= D - 1; for (int d = 0; d < D; d++) t[i*D+d] = (float)((target[i*D+d]-m)/std::sqrt(v + 1e-6)); }
        emu_launch(dim3{(unsigned)((R + 7) / 8), 1, 1}, 256, 0, [&] { norm_pix_target_f32(gt.data(), target.data(), R, D, 1e-6f); });
        cmp("normpix", t, gt, 1e-5, 1e-5);
        double num = 0, den = 0; for (int i = 0; i < R; i++) { double s = 0; for (int d = 0; d < D; d++) { double e = pred[i*D+d] - t[i*D+d]; s += e * e; } row[i] = (float)(s / D); num += s / D * mask[i]; den += mask[i]; }
        emu_launch(dim3{(unsigned)((R + 7) / 8), 1, 1}, 256, 0, [&] { mse_rows_f32(grow.data(), pred.data(), t.data(), R, D); });
        cmp("mse rows", row, grow, 0, 1e-5);
        emu_launch(dim3{1, 1, 1}, 1024, 0, [&] { masked_mean_f32(stats.data(), row.data(), mask.data(), R); });
        cmp("masked mean", {(float)(num / den), (float)den}, stats, 0, 1e-5);
        auto dp = gauss(R * D); auto dpr = dp; float dl = 0.5f;
        for (int i = 0; i < R; i++) for (int d = 0; d < D; d++) dpr[i*D+d] += (float)(dl * mask[i] / den * 2 * (pred[i*D+d] - t[i*D+d]) / D);
        emu_launch(dim3{64, 1, 1}, 256, 0, [&] { mse_masked_backward_f32(dp.data(), pred.data(), t.data(), mask.data(), stats.data(), dl, R, D); });
        cmp("mse bwd", dpr, dp, 1e-7, 1e-5);
    }
    printf("rowops: %d failures\n", fails); return fails != 0;
}
