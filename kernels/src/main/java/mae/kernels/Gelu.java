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
 */
public final class Gelu {
    private Gelu() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

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
                cdf(v, e).add(v.mul(e).mul((float) INV_SQRT_2PI)).mul(FloatVector.fromArray(S, dout, i)).intoArray(dx, i);
            }
            for (; i < i1; i++) {
                float e = expScalar(-0.5f * x[i] * x[i]);
                dx[i] = dout[i] * (cdf(x[i], e) + x[i] * e * (float) INV_SQRT_2PI);   // the vector loop's order: x e, then the constant
            }
        });
    }

    /** Vec.exp on one value (the tail of a loop), so that tails round exactly like full vectors. */
    static float expScalar(float x) {
        return Vec.exp(FloatVector.broadcast(S, x)).lane(0);
    }

    /** Phi(x) for a vector, given e = exp(-x^2 / 2). */
    static FloatVector cdf(FloatVector x, FloatVector e) {
        FloatVector t = FloatVector.broadcast(S, 1f).div(x.abs().mul((float) INV_SQRT2 * P).add(1f));
        FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
        FloatVector erf = FloatVector.broadcast(S, 1f).sub(poly.mul(e));
        return erf.blend(erf.neg(), x.compare(VectorOperators.LT, 0f)).add(1f).mul(0.5f);
    }

    /** Phi(x) = 0.5 (1 + erf(x / sqrt 2)) by A&S 7.1.26, given e = exp(-x^2 / 2). */
    static float cdf(float x, float e) {
        float az = Math.abs(x) * (float) INV_SQRT2;
        float t = 1f / (1f + P * az);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float erf = 1f - poly * e;
        return 0.5f * (1f + (x < 0 ? -erf : erf));
    }
}
