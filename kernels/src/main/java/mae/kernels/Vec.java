package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Small vectorized building blocks (Vector API loop plus scalar tail) shared by the fast kernels. */
public final class Vec {
    private Vec() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Ints of S's shape, named as a constant for the JIT (see {@link #exp}). */
    static final VectorSpecies<Integer> IS = S.withLanes(int.class);

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
        float s = 0;
        for (int i = 0; i < S.length(); i++) s += v.lane(i);   // no scratch array: C2 did not always remove it
        return s;
    }

    static final float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f, ROUND = 12582912f; // 1.5 * 2^23

    /**
     * e^x lane by lane, for x in [-87, 88] (clamped), from IEEE operations only (no lanewise EXP, whose
     * JIT and interpreter versions may differ in the last bit): x = n ln2 + r with |r| <= ln2/2, e^r by its
     * degree-6 Taylor polynomial (relative error below 1.5e-7), 2^n built in the exponent bits. Adding
     * 1.5 * 2^23 rounds x log2(e) to the integer n and leaves n in the low mantissa bits, so shifting those
     * bits into the exponent needs no float-to-int conversion (which the JIT does not intrinsify here). The float
     * and int views go through reinterpretShape with the species named ({@link #IS}), not reinterpretAsInts(),
     * which looks its target species up at run time: inside the training step C2 then left that conversion a
     * call to its Java fallback ("missing constant: ... vclass_to=LoadP" under -XX:+PrintIntrinsics), which
     * allocates (JFR: most of the 112 MB allocated per fmnist step; see bench/results/2026-12-01-vm-amd-epyc-jit-fallbacks.md).
     * The reduction and the polynomial are fused multiply-adds (one rounding each, an IEEE operation like the
     * others: the JIT's vfmadd and the fallback's Math.fma give the same bits): 9 instructions where a multiply and
     * an add were 18. The attention kernel at the ViT-B decoder's shape (8, 16, 197, 32), paired call by call against
     * the separate multiply and add (`bin/mae bench attention --against`, 101 pairs, 2 threads, Zen 4 VM): 1.030, 1.055.
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        FloatVector t = x.fma(LOG2E, ROUND), n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_LO), n.fma(FloatVector.broadcast(S, -LN2_HI), x));
        FloatVector p = r.fma(1f / 720, 1f / 120).fma(r, FloatVector.broadcast(S, 1f / 24)).fma(r, FloatVector.broadcast(S, 1f / 6))
                .fma(r, FloatVector.broadcast(S, 0.5f)).fma(r, FloatVector.broadcast(S, 1f)).fma(r, FloatVector.broadcast(S, 1f));
        IntVector pow2n = ((IntVector) t.reinterpretShape(IS, 0)).lanewise(VectorOperators.LSHL, 23).add(127 << 23);
        return p.mul((FloatVector) pow2n.reinterpretShape(S, 0));
    }
}
