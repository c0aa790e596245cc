package mae.kernels;

/** Softmax over the last axis of a contiguous (rows, cols) buffer. */
public final class Softmax {
    private Softmax() {}

    /** out (rows, cols) = exp(x - max) / sum exp(x - max), per row. */
    public static void forward(float[] out, float[] x, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
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
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double dot = 0;
            for (int c = 0; c < cols; c++) dot += (double) dy[o + c] * y[o + c];
            for (int c = 0; c < cols; c++) dx[o + c] += (float) (y[o + c] * (dy[o + c] - dot));
        }
    }
}
