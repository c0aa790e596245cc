package mae.kernels;

/**
 * Reductions over the middle axis of a contiguous (outer, n, inner) buffer: the tensor layer maps any set
 * of reduced dims to this form. Sums accumulate in double.
 */
public final class Reduce {
    private Reduce() {}

    /** out (outer, inner) = sum over n of x (outer, n, inner). */
    public static void sum(float[] out, float[] x, int xOff, int outer, int n, int inner) {
        double[] acc = new double[inner];
        for (int o = 0; o < outer; o++) {
            java.util.Arrays.fill(acc, 0);
            int base = xOff + o * n * inner;
            for (int j = 0; j < n; j++) {
                int row = base + j * inner;
                for (int i = 0; i < inner; i++) acc[i] += x[row + i];
            }
            for (int i = 0; i < inner; i++) out[o * inner + i] = (float) acc[i];
        }
    }

    /** out (outer, inner) = max over n; arg (outer, inner) = the first index reaching it. NaN wins. */
    public static void max(float[] out, int[] arg, float[] x, int xOff, int outer, int n, int inner) {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                int base = xOff + o * n * inner + i;
                float best = x[base];
                int bi = 0;
                for (int j = 1; j < n && !Float.isNaN(best); j++) {
                    float v = x[base + j * inner];
                    if (v > best || Float.isNaN(v)) { best = v; bi = j; }
                }
                out[o * inner + i] = best;
                arg[o * inner + i] = bi;
            }
    }

    /** Variance over n: sum (x - mean)^2 / (n - correction), two passes in double. */
    public static void var(float[] out, float[] x, int xOff, int outer, int n, int inner, int correction) {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                int base = xOff + o * n * inner + i;
                double mean = 0;
                for (int j = 0; j < n; j++) mean += x[base + j * inner];
                mean /= n;
                double ss = 0;
                for (int j = 0; j < n; j++) { double d = x[base + j * inner] - mean; ss += d * d; }
                out[o * inner + i] = (float) (ss / (n - correction));
            }
    }
}
