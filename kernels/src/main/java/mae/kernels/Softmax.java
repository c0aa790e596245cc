package mae.kernels;

/**
 * Softmax over the last axis of a contiguous (rows, cols) buffer. The references are plain loops on one thread;
 * the fast versions split the rows over the threads and compute each row the same way, so both give the same
 * values ({@link KernelMode} chooses).
 */
public final class Softmax {
    private Softmax() {}

    /** Rows of this many elements or more per thread are worth a split. */
    private static final int MIN_CHUNK = 1 << 14;

    /** out (rows, cols) = exp(x - max) / sum exp(x - max), per row. */
    public static void forward(float[] out, float[] x, int rows, int cols) {
        if (KernelMode.reference()) { forwardRef(out, x, rows, cols); return; }
        Parallel.forRange(rows, Math.max(1, MIN_CHUNK / Math.max(1, cols)), (r0, r1) -> forwardRows(out, x, r0, r1, cols));
    }

    public static void forwardRef(float[] out, float[] x, int rows, int cols) { forwardRows(out, x, 0, rows, cols); }

    private static void forwardRows(float[] out, float[] x, int r0, int r1, int cols) {
        for (int r = r0; r < r1; r++) {
            int o = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[o + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) { float e = (float) Math.exp(x[o + c] - max); out[o + c] = e; sum += e; }
            float inv = (float) (1 / sum);
            for (int c = 0; c < cols; c++) out[o + c] *= inv;
        }
    }

    /** dx (rows, cols) += y * (dy - sum(dy * y)), y the forward output. */
    public static void backward(float[] dx, float[] dy, float[] y, int rows, int cols) {
        if (KernelMode.reference()) { backwardRef(dx, dy, y, rows, cols); return; }
        Parallel.forRange(rows, Math.max(1, MIN_CHUNK / Math.max(1, cols)), (r0, r1) -> backwardRows(dx, dy, y, r0, r1, cols));
    }

    public static void backwardRef(float[] dx, float[] dy, float[] y, int rows, int cols) { backwardRows(dx, dy, y, 0, rows, cols); }

    private static void backwardRows(float[] dx, float[] dy, float[] y, int r0, int r1, int cols) {
        for (int r = r0; r < r1; r++) {
            int o = r * cols;
            double dot = 0;
            for (int c = 0; c < cols; c++) dot += (double) dy[o + c] * y[o + c];
            for (int c = 0; c < cols; c++) dx[o + c] += (float) (y[o + c] * (dy[o + c] - dot));
        }
    }
}
