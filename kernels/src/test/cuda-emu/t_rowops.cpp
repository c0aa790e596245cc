#include "src/softmax.cu"
#include "src/layernorm.cu"
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
            for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r]; dxr[r*C+c] = (float)(rstd[r] * (dout[r*C+c]*w[c] - gm_ - xh*gx)); dwr[c] += (float)(dout[r*C+c]*xh); dbr[c] += dout[r*C+c]; } }
        int grid = std::min((R + 7) / 8, 2 * 132);
        for (int g2 : {grid, 2}) {
            auto dx2 = dx, dw2 = dw, db2 = db;
            emu_launch(dim3{(unsigned)g2, 1, 1}, 256, 2 * C * 4, [&] { layernorm_backward_f32(dx2.data(), dw2.data(), db2.data(), dout.data(), x.data(), w.data(), mean.data(), rstd.data(), R, C); });
            cmp("ln dx", dxr, dx2, 5e-5, 1e-4); cmp("ln dw", dwr, dw2, 1e-5 + 1e-6 * R, 1e-5); cmp("ln db", dbr, db2, 1e-5 + 1e-6 * R, 1e-5);
        }
        auto dx3 = dx; auto dxr3 = dx;
        for (int r = 0; r < R; r++) { double gm_ = 0, gx = 0; for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r], g = dout[r*C+c] * w[c]; gm_ += g; gx += g * xh; } gm_ /= C; gx /= C;
            for (int c = 0; c < C; c++) { double xh = (x[r*C+c] - mean[r]) * rstd[r]; dxr3[r*C+c] = (float)(rstd[r] * (dout[r*C+c]*w[c] - gm_ - xh*gx)); } }
        emu_launch(dim3{(unsigned)grid, 1, 1}, 256, 0, [&] { layernorm_backward_f32(dx3.data(), nullptr, nullptr, dout.data(), x.data(), w.data(), mean.data(), rstd.data(), R, C); });
        cmp("ln dx alone", dxr3, dx3, 5e-5, 1e-4);
    }
    printf("rowops: %d failures\n", fails); return fails != 0;
}
