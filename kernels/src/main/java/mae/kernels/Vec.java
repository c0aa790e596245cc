package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Small vectorized building blocks (Vector API loop plus scalar tail) shared by the fast kernels. */
public final class Vec {
    private Vec() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** y[yo..yo+n) += a * x[xo..xo+n). */
    public static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0, end = S.loopBound(n);
        FloatVector va = FloatVector.broadcast(S, a);
        for (; i < end; i += S.length())
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    /** y[yo..yo+n) += x[xo..xo+n). */
    public static void add(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0, end = S.loopBound(n);
        for (; i < end; i += S.length())
            FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += x[xo + i];
    }

    /** Sum of x[xo..xo+n), in vector lanes then across them in a fixed order (see {@link #lanesInOrder}). */
    public static float sum(float[] x, int xo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, end = S.loopBound(n);
        for (; i < end; i += S.length()) acc = acc.add(FloatVector.fromArray(S, x, xo + i));
        float s = lanesInOrder(acc);
        for (; i < n; i++) s += x[xo + i];
        return s;
    }

    /**
     * Adds the lanes first to last. reduceLanes(ADD) leaves the order open, and the JIT's intrinsic and the
     * interpreter's fallback may differ in the last bit: a run resumed in a fresh JVM would then drift from an
     * uninterrupted one. Every floating-point result of the fast kernels is fixed by IEEE rules instead.
     */
    public static float lanesInOrder(FloatVector v) {
        float[] t = new float[S.length()];
        v.intoArray(t, 0);
        float s = 0;
        for (float f : t) s += f;
        return s;
    }
}
