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
            float[] p = new float[Math.min(QT, T) * tp], kt = new float[hd * tp];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                transpose(k, base, T, hd, kt, tp);                                              // K^T (hd, tp)
                for (int i0 = 0; i0 < T; i0 += QT) {
                    int rows = Math.min(QT, T - i0), qo = base + i0 * hd;
                    panel(rows, tp, hd, scale, q, qo, hd, kt, 0, tp, p, 0, tp, false);            // S = scale Q K^T
                    for (int r = 0; r < rows; r++) lse[b * T + i0 + r] = softmaxRow(p, r * tp, T);   // P = softmax(S)
                    panel(rows, hd, T, 1f, p, 0, tp, v, base, hd, out, qo, hd, false);            // O = P V
                }
            }
        });
    }

    /** t (cols, ldt) = m^T for the (rows, cols) block of m at mo, the columns of t past rows left zero. */
    private static void transpose(float[] m, int mo, int rows, int cols, float[] t, int ldt) {
        for (int c = 0; c < cols; c++)
            for (int r = 0, o = c * ldt; r < rows; r++) t[o + r] = m[mo + r * cols + c];
    }

    /**
     * c (rows, W) = alpha a (rows, K) b (K, W), or c += that when add: a row-major with row stride lda, b with row
     * stride ldb, c with ldc. Attention's products are small (T = 13 to 197 tokens, head dims 32 to 64), where
     * packing operands and padding them to the GEMM's 6 x 32 tile cost more than the arithmetic: the tile GEMMs ran
     * at 30-60 GFLOP/s here, 6-12% of the 2-core EPYC VM's FMA peak. This kernel reads the operands in place and
     * keeps 4 rows x 2 vectors of c in registers (8 independent FMA chains, enough to cover the FMA latency),
     * starting from c itself when add; a last group of fewer than 4 rows repeats its last row (computed, not
     * stored), so one loop body serves every shape. alpha scales a's elements as they are broadcast (exact when
     * alpha is 1). Columns past the last whole vector go to {@link #panelTail}.
     *
     * <p>Every load and store is written out here, not in a helper: inside the training step, C2 stopped inlining
     * a store helper into this method (NodeCountInliningCutoff) in some runs, so the 8 accumulators were boxed on
     * every call and the kernel took 24% of the step's CPU samples instead of 6% (async-profiler, fmnist step, batch
     * 128, the cores shared with another job, helper force-inlined by -XX:CompileCommand for the comparison); quiet
     * runs and a JMH run of the kernel alone compiled it inlined (bench/results, 2026-11-30, stores inline).
     */
    static void panel(int rows, int W, int K, float alpha, float[] a, int ao, int lda, float[] b, int bo, int ldb,
                      float[] c, int co, int ldc, boolean add) {
        final int L = S.length(), whole = W - W % L;
        for (int i0 = 0; i0 < rows; i0 += 4) {
            int n = Math.min(4, rows - i0), r1 = Math.min(1, n - 1), r2 = Math.min(2, n - 1), r3 = Math.min(3, n - 1);
            int a0 = ao + i0 * lda, a1 = a0 + r1 * lda, a2 = a0 + r2 * lda, a3 = a0 + r3 * lda;
            int c0 = co + i0 * ldc, c1 = c0 + r1 * ldc, c2 = c0 + r2 * ldc, c3 = c0 + r3 * ldc, w = 0;
            for (; w + 2 * L <= whole; w += 2 * L) {
                FloatVector x0 = FloatVector.zero(S), y0 = x0, x1 = x0, y1 = x0, x2 = x0, y2 = x0, x3 = x0, y3 = x0;
                if (add) {
                    x0 = FloatVector.fromArray(S, c, c0 + w); y0 = FloatVector.fromArray(S, c, c0 + w + L);
                    x1 = FloatVector.fromArray(S, c, c1 + w); y1 = FloatVector.fromArray(S, c, c1 + w + L);
                    x2 = FloatVector.fromArray(S, c, c2 + w); y2 = FloatVector.fromArray(S, c, c2 + w + L);
                    x3 = FloatVector.fromArray(S, c, c3 + w); y3 = FloatVector.fromArray(S, c, c3 + w + L);
                }
                for (int kk = 0, bk = bo + w; kk < K; kk++, bk += ldb) {
                    FloatVector u = FloatVector.fromArray(S, b, bk), t = FloatVector.fromArray(S, b, bk + L);
                    FloatVector e0 = FloatVector.broadcast(S, alpha * a[a0 + kk]), e1 = FloatVector.broadcast(S, alpha * a[a1 + kk]);
                    x0 = u.fma(e0, x0); y0 = t.fma(e0, y0); x1 = u.fma(e1, x1); y1 = t.fma(e1, y1);
                    FloatVector e2 = FloatVector.broadcast(S, alpha * a[a2 + kk]), e3 = FloatVector.broadcast(S, alpha * a[a3 + kk]);
                    x2 = u.fma(e2, x2); y2 = t.fma(e2, y2); x3 = u.fma(e3, x3); y3 = t.fma(e3, y3);
                }
                x0.intoArray(c, c0 + w); y0.intoArray(c, c0 + w + L);
                if (n > 1) { x1.intoArray(c, c1 + w); y1.intoArray(c, c1 + w + L); }
                if (n > 2) { x2.intoArray(c, c2 + w); y2.intoArray(c, c2 + w + L); }
                if (n > 3) { x3.intoArray(c, c3 + w); y3.intoArray(c, c3 + w + L); }
            }
            for (; w < whole; w += L) {                                   // one last whole vector
                FloatVector x0 = FloatVector.zero(S), x1 = x0, x2 = x0, x3 = x0;
                if (add) {
                    x0 = FloatVector.fromArray(S, c, c0 + w); x1 = FloatVector.fromArray(S, c, c1 + w);
                    x2 = FloatVector.fromArray(S, c, c2 + w); x3 = FloatVector.fromArray(S, c, c3 + w);
                }
                for (int kk = 0, bk = bo + w; kk < K; kk++, bk += ldb) {
                    FloatVector u = FloatVector.fromArray(S, b, bk);
                    x0 = u.fma(FloatVector.broadcast(S, alpha * a[a0 + kk]), x0); x1 = u.fma(FloatVector.broadcast(S, alpha * a[a1 + kk]), x1);
                    x2 = u.fma(FloatVector.broadcast(S, alpha * a[a2 + kk]), x2); x3 = u.fma(FloatVector.broadcast(S, alpha * a[a3 + kk]), x3);
                }
                x0.intoArray(c, c0 + w);
                if (n > 1) x1.intoArray(c, c1 + w);
                if (n > 2) x2.intoArray(c, c2 + w);
                if (n > 3) x3.intoArray(c, c3 + w);
            }
        }
        if (whole < W) panelTail(rows, whole, W, K, alpha, a, ao, lda, b, bo, ldb, c, co, ldc, add);
    }

    /**
     * Columns [w0, W) of {@link #panel}, fewer than one vector, in scalar loops with the same operation order per
     * element (c or 0, then alpha a x b added for k = 0, 1, ...). Masked vector loads and stores are not compiled
     * to vector code on JDK 17; attention's own calls never come here (W is a padded row or a head dimension, both
     * whole vectors on AVX2 and AVX-512), so this serves other shapes and narrower machines correctly.
     */
    private static void panelTail(int rows, int w0, int W, int K, float alpha, float[] a, int ao, int lda, float[] b, int bo, int ldb,
                                  float[] c, int co, int ldc, boolean add) {
        for (int i = 0; i < rows; i++)
            for (int w = w0; w < W; w++) {
                float acc = add ? c[co + i * ldc + w] : 0f;
                for (int kk = 0; kk < K; kk++) acc = Math.fma(b[bo + kk * ldb + w], alpha * a[ao + i * lda + kk], acc);
                c[co + i * ldc + w] = acc;
            }
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
        int tp = padded(T), qt = Math.min(QT, T);
        Parallel.forRange(BH, 1, (b0, b1) -> {
            float[] p = new float[qt * tp], ds = new float[p.length], pt = new float[tp * qt], dst = new float[tp * qt],
                    kt = new float[hd * tp], vt = new float[hd * tp];
            for (int b = b0; b < b1; b++) {
                int base = b * T * hd;
                transpose(k, base, T, hd, kt, tp);                                              // K^T, V^T (hd, tp)
                transpose(v, base, T, hd, vt, tp);
                for (int i0 = 0; i0 < T; i0 += QT) {
                    int rows = Math.min(QT, T - i0), qo = base + i0 * hd;
                    panel(rows, tp, hd, scale, q, qo, hd, kt, 0, tp, p, 0, tp, false);            // S = scale Q K^T
                    panel(rows, tp, hd, 1f, dout, qo, hd, vt, 0, tp, ds, 0, tp, false);           // dP = dO V^T
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        float D = Gemm.dot(dout, base + i * hd, out, base + i * hd, hd);         // rowsum(dO * O)
                        backwardRow(p, ds, r * tp, T, lse[b * T + i], D, scale);                  // P from the saved lse; scale dS
                    }
                    transpose(p, 0, rows, tp, pt, rows);                                        // P^T, dS^T (tp, rows)
                    transpose(ds, 0, rows, tp, dst, rows);
                    panel(T, hd, rows, 1f, pt, 0, rows, dout, qo, hd, dv, base, hd, true);        // dV += P^T dO
                    panel(rows, hd, T, 1f, ds, 0, tp, k, base, hd, dq, qo, hd, true);             // dQ += scale dS K
                    panel(T, hd, rows, 1f, dst, 0, rows, q, qo, hd, dk, base, hd, true);          // dK += scale dS^T Q
                }
            }
        });
    }
}
