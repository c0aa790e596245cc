package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer norm over the last axis of a contiguous (rows, C) buffer, with weight and bias (C).
 *
 * <p>The references ({@link #forwardRef}, {@link #backwardRef}) are plain loops on one thread, accumulating in
 * double. The fast versions ({@link KernelMode} chooses) split the rows over the threads and run each row in
 * vector lanes with float sums: a row is 128-768 floats, so float sums lose nothing that matters, and the scalar
 * double loops ran at 4-7 GB/s, 13% of a training step (bench/results/2026-11-30-vm-amd-epyc-step-profile.md).
 * Sums across lanes go in a fixed order ({@link Vec#lanesInOrder}), so results do not depend on the JIT tier.
 */
public final class LayerNorm {
    private LayerNorm() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** out (rows, C) = (x - mean) * rstd * w + b; saves mean (rows) and rstd (rows) for backward. */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                               int rows, int C, float eps) {
        if (KernelMode.reference()) { forwardRef(out, mean, rstd, x, w, b, rows, C, eps); return; }
        Parallel.forRange(rows, 64, (r0, r1) -> {
            float[] lanes = new float[BLOCK * S.length()];
            for (int r = r0; r < r1; r += BLOCK) forwardRows(out, mean, rstd, x, w, b, r, Math.min(r1, r + BLOCK), C, eps, lanes);
        });
    }

    public static void forwardRef(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                                  int rows, int C, float eps) {
        for (int r = 0; r < rows; r++) {
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
     * Rows whose lane sums are added up together. Each row's mean and variance end in a sum across the vector's
     * lanes, added first to last for fixed bits ({@link Vec#lanesInOrder}): a chain of L dependent additions, as long
     * as the vector pass over a 192-float row. Done row by row, each chain waits for the last; here each pass runs
     * over BLOCK rows, its lane vectors go to an array, and the chains of the rows are then independent. Same bits;
     * against row by row, alternating in one JVM (JDK 25, 2 threads, another job busy on the cores, medians of 20):
     * forward 6400 x 128 (the fmnist decoder) 0.40 -> 0.30 ms, 1664 x 192 (its encoder) 0.196 -> 0.167 ms; backward,
     * whose two sums were already independent of each other, 0.455 -> 0.425 and 0.218 -> 0.221 ms.
     */
    static final int BLOCK = 16;

    /**
     * Rows [r0, r1) (at most BLOCK) in vector lanes: the means, then the variances about them (two passes), then the
     * affine output; lanes holds each row's lane vector between a pass and its sums. The bits of one row at a time.
     */
    private static void forwardRows(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b, int r0, int r1, int C, float eps,
                                    float[] lanes) {
        int L = S.length(), end = S.loopBound(C);
        for (int r = r0; r < r1; r++) {                                   // sum of each row
            FloatVector acc = FloatVector.zero(S);
            for (int c = 0, o = r * C; c < end; c += L) acc = acc.add(FloatVector.fromArray(S, x, o + c));
            acc.intoArray(lanes, (r - r0) * L);
        }
        for (int r = r0; r < r1; r++) {
            float sum = inOrder(lanes, (r - r0) * L);
            for (int c = end, o = r * C; c < C; c++) sum += x[o + c];
            mean[r] = sum / C;
        }
        for (int r = r0; r < r1; r++) {                                   // squares about the mean
            FloatVector vm = FloatVector.broadcast(S, mean[r]), acc = FloatVector.zero(S);
            for (int c = 0, o = r * C; c < end; c += L) {
                FloatVector d = FloatVector.fromArray(S, x, o + c).sub(vm);
                acc = d.fma(d, acc);
            }
            acc.intoArray(lanes, (r - r0) * L);
        }
        for (int r = r0; r < r1; r++) {
            float v = inOrder(lanes, (r - r0) * L), m = mean[r];
            for (int c = end, o = r * C; c < C; c++) { float d = x[o + c] - m; v += d * d; }
            rstd[r] = (float) (1 / Math.sqrt(v / C + eps));
        }
        for (int r = r0; r < r1; r++) {                                   // (x - mean) rstd w + b
            float m = mean[r], s = rstd[r];
            FloatVector vm = FloatVector.broadcast(S, m), vs = FloatVector.broadcast(S, s);
            int o = r * C, c;
            for (c = 0; c < end; c += L)
                FloatVector.fromArray(S, x, o + c).sub(vm).mul(vs).mul(FloatVector.fromArray(S, w, c)).add(FloatVector.fromArray(S, b, c))
                        .intoArray(out, o + c);
            for (; c < C; c++) out[o + c] = (x[o + c] - m) * s * w[c] + b[c];
        }
    }

    /** The L values at lanes[o ..] added first to last: {@link Vec#lanesInOrder} of the vector stored there. */
    private static float inOrder(float[] lanes, int o) {
        float s = 0;
        for (int i = 0; i < S.length(); i++) s += lanes[o + i];
        return s;
    }

    /**
     * The gradients: dx (rows, C) = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * w, written (dx needs
     * no zeroing first); dw (C) += sum over rows of dout * xhat; db (C) += sum over rows of dout, added to. dx, dw and
     * db may be null.
     */
    public static void backward(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w,
                                float[] mean, float[] rstd, int rows, int C) {
        if (KernelMode.reference()) { backwardRef(dx, dw, db, dout, x, w, mean, rstd, rows, C); return; }
        // Rows split over threads; each thread sums its own dw, db, added in thread order afterwards.
        int chunks = Math.min(Parallel.threads(), Math.max(1, rows / 64));
        float[][] pw = new float[chunks][C], pb = new float[chunks][C];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            float[] lanes = new float[2 * BLOCK * S.length()], means = new float[2 * BLOCK];
            for (int c = c0; c < c1; c++) {
                int r0 = (int) ((long) rows * c / chunks), r1 = (int) ((long) rows * (c + 1) / chunks);
                for (int r = r0; r < r1; r += BLOCK)
                    backwardRows(dx, pw[c], pb[c], dout, x, w, mean, rstd, r, Math.min(r1, r + BLOCK), C, lanes, means);
            }
        });
        for (int c = 0; c < chunks; c++) {
            if (dw != null) Vec.add(pw[c], 0, dw, 0, C);
            if (db != null) Vec.add(pb[c], 0, db, 0, C);
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
                if (dx != null) dx[o + c] = (float) (s * ((double) dout[o + c] * w[c] - gMean - xhat * gxMean));
                sw[c] += dout[o + c] * xhat;
                sb[c] += dout[o + c];
            }
        }
        for (int c = 0; c < C; c++) {
            if (dw != null) dw[c] += (float) sw[c];
            if (db != null) db[c] += (float) sb[c];
        }
    }

    /**
     * Rows [r0, r1) (at most BLOCK) in vector lanes: the two means of each row (their lane sums added up after the
     * pass over all the rows, as in {@link #forwardRows}), then dx, and dw, db into this thread's sums, row by row.
     * lanes and means are scratch. The bits of one row at a time.
     */
    private static void backwardRows(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w, float[] mean, float[] rstd,
                                     int r0, int r1, int C, float[] lanes, float[] means) {
        int L = S.length(), end = S.loopBound(C), n = r1 - r0;
        for (int r = r0; r < r1; r++) {                                   // g = dout w: sum of g and of g xhat
            FloatVector vm = FloatVector.broadcast(S, mean[r]), vs = FloatVector.broadcast(S, rstd[r]), ag = FloatVector.zero(S), agx = ag;
            for (int c = 0, o = r * C; c < end; c += L) {
                FloatVector xhat = FloatVector.fromArray(S, x, o + c).sub(vm).mul(vs);
                FloatVector g = FloatVector.fromArray(S, dout, o + c).mul(FloatVector.fromArray(S, w, c));
                ag = ag.add(g);
                agx = g.fma(xhat, agx);
            }
            ag.intoArray(lanes, (r - r0) * L);
            agx.intoArray(lanes, (n + r - r0) * L);
        }
        for (int r = r0; r < r1; r++) {
            float m = mean[r], s = rstd[r], gSum = inOrder(lanes, (r - r0) * L), gxSum = inOrder(lanes, (n + r - r0) * L);
            for (int c = end, o = r * C; c < C; c++) {
                float xhat = (x[o + c] - m) * s, g = dout[o + c] * w[c];
                gSum += g;
                gxSum += g * xhat;
            }
            means[r - r0] = gSum / C;
            means[BLOCK + r - r0] = gxSum / C;
        }
        for (int r = r0; r < r1; r++) {                                   // dx = rstd (g - mean(g) - xhat mean(g xhat)); dw, db +=
            float m = mean[r], s = rstd[r], gMean = means[r - r0], gxMean = means[BLOCK + r - r0];
            FloatVector vm = FloatVector.broadcast(S, m), vs = FloatVector.broadcast(S, s);
            FloatVector vgm = FloatVector.broadcast(S, gMean), vgx = FloatVector.broadcast(S, gxMean);
            int o = r * C, c;
            for (c = 0; c < end; c += L) {
                FloatVector xhat = FloatVector.fromArray(S, x, o + c).sub(vm).mul(vs), d = FloatVector.fromArray(S, dout, o + c);
                if (dx != null)
                    d.mul(FloatVector.fromArray(S, w, c)).sub(vgm).sub(xhat.mul(vgx)).mul(vs).intoArray(dx, o + c);
                d.fma(xhat, FloatVector.fromArray(S, dw, c)).intoArray(dw, c);
                d.add(FloatVector.fromArray(S, db, c)).intoArray(db, c);
            }
            for (; c < C; c++) {
                float xhat = (x[o + c] - m) * s;
                if (dx != null) dx[o + c] = s * (dout[o + c] * w[c] - gMean - xhat * gxMean);
                dw[c] += dout[o + c] * xhat;
                db[c] += dout[o + c];
            }
        }
    }
}
