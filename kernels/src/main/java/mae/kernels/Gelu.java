package mae.kernels;

/** Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), on contiguous buffers. */
public final class Gelu {
    private Gelu() {}

    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;

    public static void forward(float[] out, float[] x, int n) {
        Parallel.forRange(n, 1 << 14, (i0, i1) -> {
            for (int i = i0; i < i1; i++) out[i] = (float) (0.5 * x[i] * (1 + Erf.erf(x[i] * INV_SQRT2)));
        });
    }

    /** dx += dout * (Phi(x) + x phi(x)). */
    public static void backward(float[] dx, float[] dout, float[] x, int n) {
        Parallel.forRange(n, 1 << 14, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                double xi = x[i];
                double cdf = 0.5 * (1 + Erf.erf(xi * INV_SQRT2));
                double pdf = INV_SQRT_2PI * Math.exp(-0.5 * xi * xi);
                dx[i] += (float) (dout[i] * (cdf + xi * pdf));
            }
        });
    }
}
