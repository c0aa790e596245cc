package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

    /** Sum of x[xo..xo+n), in vector lanes then across them. */
    public static float sum(float[] x, int xo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, end = S.loopBound(n);
        for (; i < end; i += S.length()) acc = acc.add(FloatVector.fromArray(S, x, xo + i));
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[xo + i];
        return s;
    }
}
