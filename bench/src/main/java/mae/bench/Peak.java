package mae.bench;

import jdk.incubator.vector.FloatVector;
import mae.kernels.Parallel;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's measured FP32 FMA peak: every thread runs fused multiply-adds on 12 independent vector
 * accumulators (enough to hide the FMA latency), from registers only. The denominator for "% of peak".
 */
public final class Peak {
    private Peak() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** GFLOP/s of `iters` rounds of 12 vector FMAs on each of `threads` chunks (2 flops per lane per FMA). */
    public static double gflops(long iters, int threads) {
        float[] sink = new float[threads];
        long t = System.nanoTime();
        Parallel.forRange(threads, 1, (from, to) -> { for (int c = from; c < to; c++) sink[c] = fmaLoop(iters, c); });
        double secs = (System.nanoTime() - t) / 1e9;
        return 2.0 * 12 * S.length() * iters * threads / secs / 1e9;
    }

    private static float fmaLoop(long iters, int seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), a = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, seed), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3), c4 = c0.add(4), c5 = c0.add(5),
                c6 = c0.add(6), c7 = c0.add(7), c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(m, a); c1 = c1.fma(m, a); c2 = c2.fma(m, a); c3 = c3.fma(m, a);
            c4 = c4.fma(m, a); c5 = c5.fma(m, a); c6 = c6.fma(m, a); c7 = c7.fma(m, a);
            c8 = c8.fma(m, a); c9 = c9.fma(m, a); c10 = c10.fma(m, a); c11 = c11.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** Lanes of the preferred vector species (16 with AVX-512). */
    public static int lanes() { return S.length(); }
}
