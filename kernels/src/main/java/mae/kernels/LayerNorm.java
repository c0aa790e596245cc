package mae.kernels;

/** Layer norm over the last axis of a contiguous (rows, C) buffer, with weight and bias (C). */
public final class LayerNorm {
    private LayerNorm() {}

    /** out (rows, C) = (x - mean) * rstd * w + b; saves mean (rows) and rstd (rows) for backward. */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                               int rows, int C, float eps) {
        Parallel.forRange(rows, 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * C;
                double m = 0;
                for (int c = 0; c < C; c++) m += x[o + c];
                m /= C;
                double v = 0;
                for (int c = 0; c < C; c++) { double d = x[o + c] - m; v += d * d; }
                v /= C;
                float s = (float) (1 / Math.sqrt(v + eps)), mf = (float) m;
                for (int c = 0; c < C; c++) out[o + c] = (x[o + c] - mf) * s * w[c] + b[c];
                mean[r] = mf;
                rstd[r] = s;
            }
        });
    }

    /**
     * Adds the gradients: dx (rows, C) += rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * w;
     * dw (C) += sum over rows of dout * xhat; db (C) += sum over rows of dout. dw and db may be null.
     */
    public static void backward(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w,
                                float[] mean, float[] rstd, int rows, int C) {
        for (int r = 0; r < rows; r++) {
            int o = r * C;
            float m = mean[r], s = rstd[r];
            double gMean = 0, gxMean = 0;
            for (int c = 0; c < C; c++) {
                float xhat = (x[o + c] - m) * s, g = dout[o + c] * w[c];
                gMean += g;
                gxMean += g * xhat;
            }
            gMean /= C;
            gxMean /= C;
            for (int c = 0; c < C; c++) {
                float xhat = (x[o + c] - m) * s;
                if (dx != null) dx[o + c] += (float) (s * (dout[o + c] * w[c] - gMean - xhat * gxMean));
                if (dw != null) dw[c] += dout[o + c] * xhat;
                if (db != null) db[c] += dout[o + c];
            }
        }
    }
}
