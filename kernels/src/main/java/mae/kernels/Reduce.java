package mae.kernels;

/**
 * Reductions over the middle axis of a contiguous (outer, n, inner) buffer: the tensor layer maps any set
 * of reduced dims to this form. Sums accumulate in double.
 */
public final class Reduce {
    private Reduce() {}

    /**
     * out (outer, inner) = sum over n of x (outer, n, inner): float accumulation in vector lanes (the rows of
     * a bias gradient, say), split over threads by outer or by inner.
     */
    public static void sum(float[] out, float[] x, int xOff, int outer, int n, int inner) {
        if (KernelMode.reference()) { sumRef(out, x, xOff, outer, n, inner); return; }
        if (inner == 1) {
            Parallel.forRange(outer, 256, (o0, o1) -> { for (int o = o0; o < o1; o++) out[o] = Vec.sum(x, xOff + o * n, n); });
            return;
        }
        for (int o = 0; o < outer; o++) {
            int ob = o * inner, base = xOff + o * n * inner;
            Parallel.forRange(inner, Math.max(64, inner / Parallel.threads()), (i0, i1) -> {
                java.util.Arrays.fill(out, ob + i0, ob + i1, 0f);
                for (int j = 0; j < n; j++) Vec.add(x, base + j * inner + i0, out, ob + i0, i1 - i0);
            });
        }
    }

    /** The reference: plain loops, double accumulation. */
    public static void sumRef(float[] out, float[] x, int xOff, int outer, int n, int inner) {
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
