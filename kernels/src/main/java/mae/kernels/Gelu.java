package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), on contiguous buffers.
 *
 * <p>{@link #forwardRef}/{@link #backwardRef} use the double-precision {@link Erf}. The fast path evaluates
 * erf with Abramowitz and Stegun 7.1.26, erf(z) = 1 - t (a1 + t (a2 + ... a5)) e^(-z^2), t = 1/(1 + p z),
 * whose absolute error is below 1.5e-7 (float32 resolution near 1), vectorized with the Vector API's exp.
 * It is checked against the reference in tests.
 */
public final class Gelu {
    private Gelu() {}

    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    public static void forwardRef(float[] out, float[] x, int n) {
        for (int i = 0; i < n; i++) out[i] = (float) (0.5 * x[i] * (1 + Erf.erf(x[i] * INV_SQRT2)));
    }

    /** dx += dout * (Phi(x) + x phi(x)). */
    public static void backwardRef(float[] dx, float[] dout, float[] x, int n) {
        for (int i = 0; i < n; i++) {
            double xi = x[i];
            double cdf = 0.5 * (1 + Erf.erf(xi * INV_SQRT2));
            double pdf = INV_SQRT_2PI * Math.exp(-0.5 * xi * xi);
            dx[i] += (float) (dout[i] * (cdf + xi * pdf));
        }
    }

    public static void forward(float[] out, float[] x, int n) {
        if (KernelMode.reference()) { forwardRef(out, x, n); return; }
        Parallel.forRange(n, 1 << 15, (i0, i1) -> {
            int i = i0, end = i0 + S.loopBound(i1 - i0);
            for (; i < end; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                v.mul(cdf(v)).intoArray(out, i);
            }
            for (; i < i1; i++) out[i] = x[i] * cdf(x[i]);
        });
    }

    /** dx += dout * (Phi(x) + x phi(x)). */
    public static void backward(float[] dx, float[] dout, float[] x, int n) {
        if (KernelMode.reference()) { backwardRef(dx, dout, x, n); return; }
        Parallel.forRange(n, 1 << 15, (i0, i1) -> {
            int i = i0, end = i0 + S.loopBound(i1 - i0);
            for (; i < end; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                FloatVector pdf = v.mul(v).mul(-0.5f).lanewise(VectorOperators.EXP).mul((float) INV_SQRT_2PI);
                FloatVector d = cdf(v).add(v.mul(pdf)).mul(FloatVector.fromArray(S, dout, i));
                FloatVector.fromArray(S, dx, i).add(d).intoArray(dx, i);
            }
            for (; i < i1; i++) {
                float pdf = (float) (INV_SQRT_2PI * Math.exp(-0.5 * x[i] * x[i]));
                dx[i] += dout[i] * (cdf(x[i]) + x[i] * pdf);
            }
        });
    }

    /** Phi(x) = 0.5 (1 + erf(x / sqrt 2)), A&S 7.1.26 on |z| with the sign restored. */
    static FloatVector cdf(FloatVector x) {
        FloatVector z = x.mul((float) INV_SQRT2), az = z.abs();
        FloatVector t = az.mul(P).add(1f);
        t = FloatVector.broadcast(S, 1f).div(t);
        FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
        FloatVector erfAbs = FloatVector.broadcast(S, 1f).sub(poly.mul(az.mul(az).neg().lanewise(VectorOperators.EXP)));
        FloatVector erf = erfAbs.blend(erfAbs.neg(), z.compare(VectorOperators.LT, 0f));
        return erf.add(1f).mul(0.5f);
    }

    static float cdf(float x) {
        float z = (float) (x * INV_SQRT2), az = Math.abs(z);
        float t = 1f / (1f + P * az);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float e = 1f - poly * (float) Math.exp(-az * az);
        return 0.5f * (1f + (z < 0 ? -e : e));
    }
}
