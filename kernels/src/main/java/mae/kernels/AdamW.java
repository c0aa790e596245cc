package mae.kernels;

/**
 * One fused AdamW step over flat parameter, gradient and moment buffers (PyTorch's order of operations). The
 * reference is the plain loop on one thread; the fast version splits the elements over the threads and runs the
 * same loop on each part, so both give the same bits ({@link KernelMode} chooses).
 */
public final class AdamW {
    private AdamW() {}

    /** Elements per thread below which a split costs more than it saves. */
    private static final int MIN_CHUNK = 1 << 15;

    /**
     * p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
     * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). t counts from 1.
     */
    public static void step(float[] p, float[] g, float[] m, float[] v, int off, int n, long t,
                            float lr, float beta1, float beta2, float eps, float wd) {
        if (KernelMode.reference()) { stepRef(p, g, m, v, off, n, t, lr, beta1, beta2, eps, wd); return; }
        Parallel.forRange(n, MIN_CHUNK, (i0, i1) -> stepRef(p, g, m, v, off + i0, i1 - i0, t, lr, beta1, beta2, eps, wd));
    }

    public static void stepRef(float[] p, float[] g, float[] m, float[] v, int off, int n, long t,
                               float lr, float beta1, float beta2, float eps, float wd) {
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        float stepSize = lr / bc1;
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = 1 - lr * wd;
        for (int i = off; i < off + n; i++) {
            float gi = g[i];
            m[i] = beta1 * m[i] + (1 - beta1) * gi;
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
            float denom = (float) Math.sqrt(v[i]) / bc2Sqrt + eps;
            p[i] = p[i] * decay - stepSize * m[i] / denom;
        }
    }
}
