package mae.kernels;

/**
 * Gather and its adjoint, scatter-add, along the middle axis of a contiguous (outer, S, inner) buffer:
 * out[o, j, i] = x[o, idx[o, j, i'], i] with i' = i, or i' = 0 when the index is broadcast over inner
 * (idxInner == 1, the common "select rows" case).
 */
public final class Gather {
    private Gather() {}

    public static void gather(float[] out, float[] x, int xOff, int[] idx, int outer, int S, int J, int inner, int idxInner) {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < J; j++) {
                int ib = (o * J + j) * idxInner, ob = (o * J + j) * inner;
                if (idxInner == 1) {
                    int s = check(idx[ib], S);
                    System.arraycopy(x, xOff + (o * S + s) * inner, out, ob, inner);
                } else {
                    for (int i = 0; i < inner; i++) out[ob + i] = x[xOff + (o * S + check(idx[ib + i], S)) * inner + i];
                }
            }
    }

    /** dx[o, idx[o, j, i'], i] += dout[o, j, i]: the backward of gather. */
    public static void scatterAdd(float[] dx, float[] dout, int[] idx, int outer, int S, int J, int inner, int idxInner) {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < J; j++) {
                int ib = (o * J + j) * idxInner, ob = (o * J + j) * inner;
                for (int i = 0; i < inner; i++) {
                    int s = check(idx[ib + (idxInner == 1 ? 0 : i)], S);
                    dx[(o * S + s) * inner + i] += dout[ob + i];
                }
            }
    }

    static int check(int s, int S) {
        if (s < 0 || s >= S) throw new IndexOutOfBoundsException("gather index " + s + " out of range [0, " + S + ")");
        return s;
    }

    /** Stable ascending argsort of each row of a contiguous (rows, n) buffer; NaN sorts last. */
    public static void argsortRows(int[] out, float[] x, int xOff, int rows, int n) {
        long[] keys = new long[n];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) keys[j] = ((long) sortable(x[xOff + r * n + j]) << 32) | j;
            java.util.Arrays.sort(keys);
            for (int j = 0; j < n; j++) out[r * n + j] = (int) keys[j];
        }
    }

    /** Maps float order to signed int order (-0 before +0, NaN last). */
    static int sortable(float f) {
        int b = Float.floatToIntBits(f); // canonical NaN
        return b >= 0 ? b : b ^ 0x7fffffff;
    }
}
