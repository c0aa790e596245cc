package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), on contiguous buffers.
 *
 * <p>{@link #forwardRef}/{@link #backwardRef} use the double-precision {@link Erf}. The fast path evaluates
 * erf with Abramowitz and Stegun 7.1.26, erf(z) = 1 - t (a1 + t (a2 + ... a5)) e^(-z^2), t = 1/(1 + p z),
 * whose absolute error is below 1.5e-7 (float32 resolution near 1); it is checked against the reference in
 * tests. e^(-z^2) = e^(-x^2/2) also gives the density phi(x) that backward needs, so each element costs one
 * exp, {@link Vec#exp} (IEEE operations only, not the Vector API's lanewise EXP, whose JIT and interpreter
 * versions may round differently: a resumed run must repeat an uninterrupted one bit for bit).
 *
 * <p>GELU is compute-bound here, not memory-bound: one thread took 0.8-0.9 ns per value whether the 3.3 M values (the
 * fmnist decoder's fc1 output) or 32 K (in L2) were read, about 45 cycles per 16-lane vector (Zen 4 VM). With the
 * polynomial in fused multiply-adds and Phi taken as 1 - q ({@link #cdf(FloatVector, FloatVector)}), 3.3 M values on
 * one thread, three alternating launches each: forward 0.75-0.82 -> 0.60-0.62 ns per value, backward 0.82-0.87 ->
 * 0.69-0.75 (JDK 17).
 */
public final class Gelu {
    private Gelu() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    /** p / sqrt 2 (t = 1 / (1 + p |x| / sqrt 2)), and the a_i halved (exactly): q = t (h1 + t (h2 + ...)) e = 1 - Phi(|x|). */
    static final float PS = (float) (INV_SQRT2 * P), H1 = 0.5f * A1, H2 = 0.5f * A2, H3 = 0.5f * A3, H4 = 0.5f * A4, H5 = 0.5f * A5;

    public static void forwardRef(float[] out, float[] x, int n) {
        for (int i = 0; i < n; i++) out[i] = (float) (0.5 * x[i] * (1 + Erf.erf(x[i] * INV_SQRT2)));
    }

    /** dx = dout * (Phi(x) + x phi(x)), written (not added to: dx needs no zeroing first). */
    public static void backwardRef(float[] dx, float[] dout, float[] x, int n) {
        for (int i = 0; i < n; i++) {
            double xi = x[i];
            double cdf = 0.5 * (1 + Erf.erf(xi * INV_SQRT2));
            double pdf = INV_SQRT_2PI * Math.exp(-0.5 * xi * xi);
            dx[i] = (float) (dout[i] * (cdf + xi * pdf));
        }
    }

    public static void forward(float[] out, float[] x, int n) {
        if (KernelMode.reference()) { forwardRef(out, x, n); return; }
        Parallel.forRange(n, 1 << 15, (i0, i1) -> {
            int i = i0;
            for (int end = i0 + S.loopBound(i1 - i0); i < end; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                v.mul(cdf(v, Vec.exp(v.mul(v).mul(-0.5f)))).intoArray(out, i);
            }
            for (; i < i1; i++) out[i] = x[i] * cdf(x[i], expScalar(-0.5f * x[i] * x[i]));
        });
    }

    /** dx = dout * (Phi(x) + x phi(x)), written, as {@link #backwardRef}. */
    public static void backward(float[] dx, float[] dout, float[] x, int n) {
        if (KernelMode.reference()) { backwardRef(dx, dout, x, n); return; }
        Parallel.forRange(n, 1 << 15, (i0, i1) -> {
            int i = i0;
            for (int end = i0 + S.loopBound(i1 - i0); i < end; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                FloatVector e = Vec.exp(v.mul(v).mul(-0.5f));
                v.mul(e).fma(FloatVector.broadcast(S, (float) INV_SQRT_2PI), cdf(v, e)).mul(FloatVector.fromArray(S, dout, i)).intoArray(dx, i);
            }
            for (; i < i1; i++) {
                float e = expScalar(-0.5f * x[i] * x[i]);
                dx[i] = Math.fma(x[i] * e, (float) INV_SQRT_2PI, cdf(x[i], e)) * dout[i];   // the vector loop's order
            }
        });
    }

    /** Vec.exp on one value (the tail of a loop), so that tails round exactly like full vectors. */
    static float expScalar(float x) {
        return Vec.exp(FloatVector.broadcast(S, x)).lane(0);
    }

    /**
     * Phi(x) for a vector, given e = exp(-x^2 / 2): q = 1 - Phi(|x|) from the halved coefficients, then Phi(x) = 1 - q
     * for x >= 0 and q below, with the polynomial and 1 + p|x|/sqrt 2 in fused multiply-adds (IEEE operations, as in
     * {@link Vec#exp}): 12 vector operations where 0.5 (1 +- (1 - poly e)) in separate multiplies and adds took 20.
     * Timings in the class comment.
     */
    static FloatVector cdf(FloatVector x, FloatVector e) {
        FloatVector t = FloatVector.broadcast(S, 1f).div(x.abs().fma(PS, 1f));
        FloatVector q = t.fma(H5, H4).fma(t, FloatVector.broadcast(S, H3)).fma(t, FloatVector.broadcast(S, H2))
                .fma(t, FloatVector.broadcast(S, H1)).mul(t).mul(e);
        return FloatVector.broadcast(S, 1f).sub(q).blend(q, x.compare(VectorOperators.LT, 0f));
    }

    /** Phi(x) for one value, in the vector version's operations and order (tails round like full vectors). */
    static float cdf(float x, float e) {
        float t = 1f / Math.fma(Math.abs(x), PS, 1f);
        float q = Math.fma(Math.fma(Math.fma(Math.fma(t, H5, H4), t, H3), t, H2), t, H1) * t * e;
        return x < 0 ? q : 1f - q;
    }
}
