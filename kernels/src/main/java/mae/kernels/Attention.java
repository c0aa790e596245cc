package mae.kernels;

/**
 * Scaled dot-product attention, one fused op: for each of BH (batch x heads) slices of contiguous
 * q, k, v (BH, T, hd): out = softmax(q k^T * scale) v. Forward saves only lse (BH, T), the log-sum-exp of
 * each score row; backward recomputes the probabilities from it, one query row at a time, so no (T, T)
 * matrix exists between or within the passes.
 *
 * <p>{@link #forwardRef}/{@link #backwardRef} are the plain loops. The fast versions hold k and v transposed
 * (hd, T) per slice so that a score row is hd axpys of length T, and the value sums are T axpys of length
 * hd: everything vectorizes without horizontal reductions. Slices are split over threads.
 */
public final class Attention {
    private Attention() {}

    public static void forwardRef(float[] out, float[] lse, float[] q, float[] k, float[] v, int BH, int T, int hd, float scale) {
        float[] p = new float[T];
        for (int b = 0; b < BH; b++) {
            int base = b * T * hd;
            for (int i = 0; i < T; i++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < T; j++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) q[base + i * hd + d] * k[base + j * hd + d];
                    p[j] = (float) (scale * s);
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < T; j++) { p[j] = (float) Math.exp(p[j] - max); sum += p[j]; }
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = 0; j < T; j++) o += p[j] * v[base + j * hd + d];
                    out[base + i * hd + d] = (float) (o / sum);
                }
                lse[b * T + i] = (float) (max + Math.log(sum));
            }
        }
    }

    /**
     * Adds dq, dk, dv given dout and the forward's out and lse:
     * P = exp(scale q k^T - lse); dv += P^T dout; dS = P * (dout v^T - rowsum(dout * out)); dq += scale dS k;
     * dk += scale dS^T q.
     */
    public static void backwardRef(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                   float[] out, float[] lse, int BH, int T, int hd, float scale) {
        for (int b = 0; b < BH; b++) {
            int base = b * T * hd;
            for (int i = 0; i < T; i++) {
                int qi = base + i * hd;
                double D = 0;
                for (int d = 0; d < hd; d++) D += (double) dout[qi + d] * out[qi + d];
                for (int j = 0; j < T; j++) {
                    int kj = base + j * hd;
                    double s = 0, dp = 0;
                    for (int d = 0; d < hd; d++) { s += (double) q[qi + d] * k[kj + d]; dp += (double) dout[qi + d] * v[kj + d]; }
                    double p = Math.exp(scale * s - lse[b * T + i]);
                    double ds = p * (dp - D);
                    for (int d = 0; d < hd; d++) {
                        dv[kj + d] += (float) (p * dout[qi + d]);
                        dq[qi + d] += (float) (scale * ds * k[kj + d]);
                        dk[kj + d] += (float) (scale * ds * q[qi + d]);
                    }
                }
            }
        }
    }

    public static void forward(float[] out, float[] lse, float[] q, float[] k, float[] v, int BH, int T, int hd, float scale) {
        if (KernelMode.reference()) { forwardRef(out, lse, q, k, v, BH, T, hd, scale); return; }
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] kt = new float[hd * T], s = new float[T];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                transpose(k, base, T, hd, kt);
                for (int i = 0; i < T; i++) {
                    int qi = base + i * hd;
                    scores(q, qi, kt, T, hd, scale, s);
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < T; j++) max = Math.max(max, s[j]);
                    float sum = 0;
                    for (int j = 0; j < T; j++) { s[j] = (float) Math.exp(s[j] - max); sum += s[j]; }
                    java.util.Arrays.fill(out, qi, qi + hd, 0f);
                    float inv = 1 / sum;
                    for (int j = 0; j < T; j++) Vec.axpy(s[j] * inv, v, base + j * hd, out, qi, hd);
                    lse[b * T + i] = max + (float) Math.log(sum);
                }
            }
        });
    }

    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                float[] out, float[] lse, int BH, int T, int hd, float scale) {
        if (KernelMode.reference()) { backwardRef(dq, dk, dv, dout, q, k, v, out, lse, BH, T, hd, scale); return; }
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] kt = new float[hd * T], vt = new float[hd * T], p = new float[T], dp = new float[T];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                transpose(k, base, T, hd, kt);
                transpose(v, base, T, hd, vt);
                for (int i = 0; i < T; i++) {
                    int qi = base + i * hd;
                    scores(q, qi, kt, T, hd, scale, p);
                    scores(dout, qi, vt, T, hd, 1f, dp);
                    float rowLse = lse[b * T + i], D = 0;
                    for (int d = 0; d < hd; d++) D += dout[qi + d] * out[qi + d];
                    for (int j = 0; j < T; j++) {
                        int kj = base + j * hd;
                        float pj = (float) Math.exp(p[j] - rowLse);
                        float ds = scale * pj * (dp[j] - D);
                        Vec.axpy(pj, dout, qi, dv, kj, hd);
                        Vec.axpy(ds, k, kj, dq, qi, hd);
                        Vec.axpy(ds, q, qi, dk, kj, hd);
                    }
                }
            }
        });
    }

    /** s[j] = scale * sum_d x[xo + d] * mt[d * T + j], as hd axpys over the transposed (hd, T) matrix. */
    private static void scores(float[] x, int xo, float[] mt, int T, int hd, float scale, float[] s) {
        java.util.Arrays.fill(s, 0, T, 0f);
        for (int d = 0; d < hd; d++) Vec.axpy(scale * x[xo + d], mt, d * T, s, 0, T);
    }

    /** (T, hd) at base -> (hd, T). */
    private static void transpose(float[] m, int base, int T, int hd, float[] out) {
        for (int j = 0; j < T; j++)
            for (int d = 0; d < hd; d++) out[d * T + j] = m[base + j * hd + d];
    }
}
