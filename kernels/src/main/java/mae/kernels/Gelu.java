package mae.kernels;

/**
 * Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), on contiguous buffers.
 *
 * <p>{@link #forwardRef}/{@link #backwardRef} use the double-precision {@link Erf}. The fast path evaluates
 * erf with Abramowitz and Stegun 7.1.26, erf(z) = 1 - t (a1 + t (a2 + ... a5)) e^(-z^2), t = 1/(1 + p z),
 * whose absolute error is below 1.5e-7 (float32 resolution near 1); it is checked against the reference in
 * tests. e^(-z^2) = e^(-x^2/2) also gives the density phi(x) that backward needs, so each element costs one
 * exp. The exp is Math.exp in a scalar loop rather than the Vector API's lanewise EXP, whose JIT and
 * interpreter versions may round differently: a resumed run must repeat an uninterrupted one bit for bit.
 */
public final class Gelu {
    private Gelu() {}

    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;
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
            for (int i = i0; i < i1; i++) {
                float e = (float) Math.exp(-0.5f * x[i] * x[i]);
                out[i] = x[i] * cdf(x[i], e);
            }
        });
    }

    /** dx += dout * (Phi(x) + x phi(x)). */
    public static void backward(float[] dx, float[] dout, float[] x, int n) {
        if (KernelMode.reference()) { backwardRef(dx, dout, x, n); return; }
        Parallel.forRange(n, 1 << 15, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float e = (float) Math.exp(-0.5f * x[i] * x[i]);
                dx[i] += dout[i] * (cdf(x[i], e) + x[i] * (float) INV_SQRT_2PI * e);
            }
        });
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
