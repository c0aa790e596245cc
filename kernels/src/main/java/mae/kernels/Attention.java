package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention, one fused op: for each of BH (batch x heads) slices of contiguous
 * q, k, v (BH, T, hd): out = softmax(q k^T * scale) v. Forward saves only lse (BH, T), the log-sum-exp of
 * each score row; backward recomputes the probabilities from it, so no (T, T) matrix is kept between the
 * passes.
 *
 * <p>{@link #forwardRef}/{@link #backwardRef} are the plain loops. The fast versions work on tiles of
 * {@link #QT} query rows: a tile's scores (QT, T) are one small GEMM, its softmax is done in place, and its
 * outputs are GEMMs again (forward: O = P V; backward: dP = dO V^T, dV += P^T dO, dQ += dS K, dK += dS^T Q),
 * so the work runs in the GEMM micro-kernel and scores never take more than QT x T floats per thread.
 * Slices (batch x heads) are split over threads; the GEMMs inside a slice run on its thread.
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

    /** Query rows per tile: a tile's scores (QT, T) are the only score storage, so memory stays O(QT T) per thread. */
    static final int QT = 32;

    public static void forward(float[] out, float[] lse, float[] q, float[] k, float[] v, int BH, int T, int hd, float scale) {
        if (KernelMode.reference()) { forwardRef(out, lse, q, k, v, BH, T, hd, scale); return; }
        int tp = padded(T);
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] p = new float[Math.min(QT, T) * tp];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                for (int i0 = 0; i0 < T; i0 += QT) {
                    int rows = Math.min(QT, T - i0), qo = base + i0 * hd;
                    Gemm.gemm(false, true, rows, T, hd, scale, q, qo, hd, k, base, hd, 0f, p, 0, tp);    // S = scale Q K^T
                    for (int r = 0; r < rows; r++) lse[b * T + i0 + r] = softmaxRow(p, r * tp, T);   // P = softmax(S)
                    Gemm.gemm(false, false, rows, hd, T, 1f, p, 0, tp, v, base, hd, 0f, out, qo, hd);    // O = P V
                }
            }
        });
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** A score row's stride: T rounded up to whole vectors, so that every row is read and written in whole vectors. */
    static int padded(int T) { return (T + S.length() - 1) / S.length() * S.length(); }

    /**
     * Replaces s[o, o + T) by its softmax; returns the row's log-sum-exp. The row lies in a padded stride
     * ({@link #padded}): whole vectors only, the lanes past T set to -inf (so exp gives 0 there). {@link Vec#exp}
     * uses IEEE operations only. Against the scalar Math.exp loops, interleaved in one JVM (12 rounds, 2 threads,
     * the VM loaded by other builds: ratios only) at BH 512, T 50, hd 32 (the fmnist decoder): forward -22%,
     * backward -16% time. Rows of one vector or less stay scalar ({@link #softmaxRowScalar}).
     */
    private static float softmaxRow(float[] s, int o, int T) {
        if (T <= S.length()) return softmaxRowScalar(s, o, T);
        int tp = padded(T), last = tp - S.length();
        FloatVector ninf = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), vmax = ninf;
        FloatVector.fromArray(S, s, o + last).blend(ninf, S.indexInRange(last, T).not()).intoArray(s, o + last);
        for (int j = 0; j < tp; j += S.length()) vmax = vmax.max(FloatVector.fromArray(S, s, o + j));
        float max = vmax.reduceLanes(VectorOperators.MAX);   // exact whatever the order, unlike a sum
        FloatVector vm = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        for (int j = 0; j < tp; j += S.length()) {
            FloatVector e = Vec.exp(FloatVector.fromArray(S, s, o + j).sub(vm));
            e.intoArray(s, o + j);
            acc = acc.add(e);
        }
        float sum = Vec.lanesInOrder(acc);
        FloatVector inv = FloatVector.broadcast(S, 1 / sum);
        for (int j = 0; j < tp; j += S.length()) FloatVector.fromArray(S, s, o + j).mul(inv).intoArray(s, o + j);
        return max + (float) Math.log(sum);
    }

    /**
     * A row of one vector or less (the encoder's 13 tokens at mask 0.75): scalar loops, which cost less there than
     * a vector pass with its fixed per-row work (interleaved in one JVM at BH 384, T 13, hd 64: 20-35% faster).
     */
    private static float softmaxRowScalar(float[] s, int o, int T) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < T; j++) max = Math.max(max, s[o + j]);
        float sum = 0;
        for (int j = 0; j < T; j++) { s[o + j] = (float) Math.exp(s[o + j] - max); sum += s[o + j]; }
        float inv = 1 / sum;
        for (int j = 0; j < T; j++) s[o + j] *= inv;
        return max + (float) Math.log(sum);
    }

    /**
     * p[o, o + T) = exp(p - lse) (the probabilities again); ds[o, o + T) = scale p (ds - D); in whole vectors of
     * the padded stride, the lanes past T of p set to -inf first (exp 0, so ds is 0 there too).
     */
    private static void backwardRow(float[] p, float[] ds, int o, int T, float rowLse, float D, float scale) {
        if (T <= S.length()) {
            for (int j = 0; j < T; j++) {
                p[o + j] = (float) Math.exp(p[o + j] - rowLse);
                ds[o + j] = scale * p[o + j] * (ds[o + j] - D);
            }
            return;
        }
        int tp = padded(T), last = tp - S.length();
        FloatVector.fromArray(S, p, o + last).blend(Float.NEGATIVE_INFINITY, S.indexInRange(last, T).not()).intoArray(p, o + last);
        FloatVector vl = FloatVector.broadcast(S, rowLse), vd = FloatVector.broadcast(S, D);
        for (int j = 0; j < tp; j += S.length()) {
            FloatVector e = Vec.exp(FloatVector.fromArray(S, p, o + j).sub(vl));
            e.intoArray(p, o + j);
            e.mul(scale).mul(FloatVector.fromArray(S, ds, o + j).sub(vd)).intoArray(ds, o + j);
        }
    }

    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                float[] out, float[] lse, int BH, int T, int hd, float scale) {
        if (KernelMode.reference()) { backwardRef(dq, dk, dv, dout, q, k, v, out, lse, BH, T, hd, scale); return; }
        int tp = padded(T);
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] p = new float[Math.min(QT, T) * tp], ds = new float[p.length];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                for (int i0 = 0; i0 < T; i0 += QT) {
                    int rows = Math.min(QT, T - i0), qo = base + i0 * hd;
                    Gemm.gemm(false, true, rows, T, hd, scale, q, qo, hd, k, base, hd, 0f, p, 0, tp);    // S = scale Q K^T
                    Gemm.gemm(false, true, rows, T, hd, 1f, dout, qo, hd, v, base, hd, 0f, ds, 0, tp);   // dP = dO V^T
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        float D = Gemm.dot(dout, base + i * hd, out, base + i * hd, hd);         // rowsum(dO * O)
                        backwardRow(p, ds, r * tp, T, lse[b * T + i], D, scale);                  // P from the saved lse; scale dS
                    }
                    Gemm.gemm(true, false, T, hd, rows, 1f, p, 0, tp, dout, qo, hd, 1f, dv, base, hd);   // dV += P^T dO
                    Gemm.gemm(false, false, rows, hd, T, 1f, ds, 0, tp, k, base, hd, 1f, dq, qo, hd);    // dQ += scale dS K
                    Gemm.gemm(true, false, T, hd, rows, 1f, ds, 0, tp, q, qo, hd, 1f, dk, base, hd);     // dK += scale dS^T Q
                }
            }
        });
    }
}
