package mae.kernels;

/**
 * Layer norm over the last axis of a contiguous (rows, C) buffer, with weight and bias (C). The references
 * ({@link #forwardRef}, {@link #backwardRef}) are plain loops on one thread, accumulating in double; the fast
 * versions split rows over the threads ({@link KernelMode} chooses). The forward computes each row the same way
 * in both, so their outputs are equal; the fast backward sums dw and db per thread, then adds the partial sums.
 */
public final class LayerNorm {
    private LayerNorm() {}

    /** out (rows, C) = (x - mean) * rstd * w + b; saves mean (rows) and rstd (rows) for backward. */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                               int rows, int C, float eps) {
        if (KernelMode.reference()) { forwardRef(out, mean, rstd, x, w, b, rows, C, eps); return; }
        Parallel.forRange(rows, 64, (r0, r1) -> forwardRows(out, mean, rstd, x, w, b, r0, r1, C, eps));
    }

    public static void forwardRef(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                                  int rows, int C, float eps) {
        forwardRows(out, mean, rstd, x, w, b, 0, rows, C, eps);
    }

    private static void forwardRows(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                                    int r0, int r1, int C, float eps) {
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
    }

    /**
     * Adds the gradients: dx (rows, C) += rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * w;
     * dw (C) += sum over rows of dout * xhat; db (C) += sum over rows of dout. dw and db may be null.
     */
    public static void backward(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w,
                                float[] mean, float[] rstd, int rows, int C) {
        if (KernelMode.reference()) { backwardRef(dx, dw, db, dout, x, w, mean, rstd, rows, C); return; }
        // Rows split over threads; each thread sums its own dw, db, added in thread order afterwards.
        int chunks = Math.min(Parallel.threads(), Math.max(1, rows / 64));
        float[][] pw = new float[chunks][C], pb = new float[chunks][C];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int r0 = (int) ((long) rows * c / chunks), r1 = (int) ((long) rows * (c + 1) / chunks);
                rowsBackward(dx, pw[c], pb[c], dout, x, w, mean, rstd, r0, r1, C);
            }
        });
        for (int c = 0; c < chunks; c++)
            for (int j = 0; j < C; j++) {
                if (dw != null) dw[j] += pw[c][j];
                if (db != null) db[j] += pb[c][j];
            }
    }

    /** The reference: rows in order on one thread, dw and db summed over rows in double. */
    public static void backwardRef(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w,
                                   float[] mean, float[] rstd, int rows, int C) {
        double[] sw = new double[C], sb = new double[C];
        for (int r = 0; r < rows; r++) {
            int o = r * C;
            float m = mean[r], s = rstd[r];
            double gMean = 0, gxMean = 0;
            for (int c = 0; c < C; c++) {
                double xhat = (x[o + c] - m) * s, g = (double) dout[o + c] * w[c];
                gMean += g;
                gxMean += g * xhat;
            }
            gMean /= C;
            gxMean /= C;
            for (int c = 0; c < C; c++) {
                double xhat = (x[o + c] - m) * s;
                if (dx != null) dx[o + c] += (float) (s * ((double) dout[o + c] * w[c] - gMean - xhat * gxMean));
                sw[c] += dout[o + c] * xhat;
                sb[c] += dout[o + c];
            }
        }
        for (int c = 0; c < C; c++) {
            if (dw != null) dw[c] += (float) sw[c];
            if (db != null) db[c] += (float) sb[c];
        }
    }

    private static void rowsBackward(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w,
                                     float[] mean, float[] rstd, int r0, int r1, int C) {
        for (int r = r0; r < r1; r++) {
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
                dw[c] += dout[o + c] * xhat;
                db[c] += dout[o + c];
            }
        }
    }
}
