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
        Parallel.forRange(rows, 64, (r0, r1) -> { for (int r = r0; r < r1; r++) forwardRow(out, mean, rstd, x, w, b, r, C, eps); });
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

    /** One row in vector lanes: mean, then the variance about it (two passes), then the affine output. */
    private static void forwardRow(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b, int r, int C, float eps) {
        int o = r * C, end = S.loopBound(C), c;
        float m = Vec.sum(x, o, C) / C;
        FloatVector vm = FloatVector.broadcast(S, m), acc = FloatVector.zero(S);
        for (c = 0; c < end; c += S.length()) {
            FloatVector d = FloatVector.fromArray(S, x, o + c).sub(vm);
            acc = d.fma(d, acc);
        }
        float v = Vec.lanesInOrder(acc);
        for (; c < C; c++) { float d = x[o + c] - m; v += d * d; }
        float s = (float) (1 / Math.sqrt(v / C + eps));
        FloatVector vs = FloatVector.broadcast(S, s);
        for (c = 0; c < end; c += S.length())
            FloatVector.fromArray(S, x, o + c).sub(vm).mul(vs).mul(FloatVector.fromArray(S, w, c)).add(FloatVector.fromArray(S, b, c))
                    .intoArray(out, o + c);
        for (; c < C; c++) out[o + c] = (x[o + c] - m) * s * w[c] + b[c];
        mean[r] = m;
        rstd[r] = s;
    }

    /**
     * Adds the gradients: dx (rows, C) += rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * w;
     * dw (C) += sum over rows of dout * xhat; db (C) += sum over rows of dout. dx, dw and db may be null.
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
                for (int r = r0; r < r1; r++) backwardRow(dx, pw[c], pb[c], dout, x, w, mean[r], rstd[r], r * C, C);
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

    /** One row from offset o in vector lanes: the two row means, then dx, and dw, db into this thread's sums. */
    private static void backwardRow(float[] dx, float[] dw, float[] db, float[] dout, float[] x, float[] w,
                                    float m, float s, int o, int C) {
        int end = S.loopBound(C), c;
        FloatVector vm = FloatVector.broadcast(S, m), vs = FloatVector.broadcast(S, s), ag = FloatVector.zero(S), agx = FloatVector.zero(S);
        for (c = 0; c < end; c += S.length()) {
            FloatVector xhat = FloatVector.fromArray(S, x, o + c).sub(vm).mul(vs);
            FloatVector g = FloatVector.fromArray(S, dout, o + c).mul(FloatVector.fromArray(S, w, c));
            ag = ag.add(g);
            agx = g.fma(xhat, agx);
        }
        float gSum = Vec.lanesInOrder(ag), gxSum = Vec.lanesInOrder(agx);
        for (; c < C; c++) {
            float xhat = (x[o + c] - m) * s, g = dout[o + c] * w[c];
            gSum += g;
            gxSum += g * xhat;
        }
        float gMean = gSum / C, gxMean = gxSum / C;
        FloatVector vgm = FloatVector.broadcast(S, gMean), vgx = FloatVector.broadcast(S, gxMean);
        for (c = 0; c < end; c += S.length()) {
            FloatVector xhat = FloatVector.fromArray(S, x, o + c).sub(vm).mul(vs), d = FloatVector.fromArray(S, dout, o + c);
            if (dx != null)
                d.mul(FloatVector.fromArray(S, w, c)).sub(vgm).sub(xhat.mul(vgx)).mul(vs).add(FloatVector.fromArray(S, dx, o + c)).intoArray(dx, o + c);
            d.fma(xhat, FloatVector.fromArray(S, dw, c)).intoArray(dw, c);
            d.add(FloatVector.fromArray(S, db, c)).intoArray(db, c);
        }
        for (; c < C; c++) {
            float xhat = (x[o + c] - m) * s;
            if (dx != null) dx[o + c] += s * (dout[o + c] * w[c] - gMean - xhat * gxMean);
            dw[c] += dout[o + c] * xhat;
            db[c] += dout[o + c];
        }
    }
}
