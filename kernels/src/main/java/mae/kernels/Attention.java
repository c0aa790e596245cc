package mae.kernels;

/**
 * Scaled dot-product attention, one fused op: for each of BH (batch x heads) slices of contiguous
 * q, k, v (BH, T, hd): out = softmax(q k^T * scale) v. Forward saves only lse (BH, T), the log-sum-exp of
 * each score row; backward recomputes the probabilities from it (no (T, T) matrix is kept between passes).
 */
public final class Attention {
    private Attention() {}

    public static void forward(float[] out, float[] lse, float[] q, float[] k, float[] v,
                               int BH, int T, int hd, float scale) {
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] p = new float[T];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                for (int i = 0; i < T; i++) {
                    int qi = base + i * hd;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < T; j++) {
                        p[j] = scale * Gemm.dot(q, qi, k, base + j * hd, hd);
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < T; j++) { p[j] = (float) Math.exp(p[j] - max); sum += p[j]; }
                    float inv = (float) (1 / sum);
                    int oi = base + i * hd;
                    java.util.Arrays.fill(out, oi, oi + hd, 0f);
                    for (int j = 0; j < T; j++) {
                        float pj = p[j] * inv;
                        int vj = base + j * hd;
                        for (int d = 0; d < hd; d++) out[oi + d] += pj * v[vj + d];
                    }
                    lse[b * T + i] = (float) (max + Math.log(sum));
                }
            }
        });
    }

    /**
     * Adds dq, dk, dv (BH, T, hd) given dout and the forward's out and lse:
     * P = exp(scale q k^T - lse); dv += P^T dout; dS = P * (dout v^T - rowsum(dout * out)); dq += scale dS k;
     * dk += scale dS^T q.
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k,
                                float[] v, float[] out, float[] lse, int BH, int T, int hd, float scale) {
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] ds = new float[T];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                for (int i = 0; i < T; i++) {
                    int qi = base + i * hd;
                    float rowLse = lse[b * T + i];
                    float D = Gemm.dot(dout, qi, out, qi, hd);
                    for (int j = 0; j < T; j++) {
                        int kj = base + j * hd;
                        float p = (float) Math.exp(scale * Gemm.dot(q, qi, k, kj, hd) - rowLse);
                        for (int d = 0; d < hd; d++) dv[kj + d] += p * dout[qi + d];
                        ds[j] = p * (Gemm.dot(dout, qi, v, kj, hd) - D);
                    }
                    for (int j = 0; j < T; j++) {
                        int kj = base + j * hd;
                        float s = scale * ds[j];
                        for (int d = 0; d < hd; d++) {
                            dq[qi + d] += s * k[kj + d];
                            dk[kj + d] += s * q[qi + d];
                        }
                    }
                }
            }
        });
    }
}
