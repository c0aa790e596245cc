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

    /**
     * GFLOP/s of `iters` rounds of 12 vector FMAs on each of `threads` chunks (2 flops per lane per FMA). The rounds go
     * to the loop {@link #CALL_ROUNDS} at a time, so that a long run is many calls: a method called a few times is
     * compiled only on-stack (OSR) once its loop is hot, and until then each call ran interpreted (`bench step --of-peak`,
     * ViT-B, 609 million rounds per pair on the 2-core Zen 4 VM: the first pair's peak loop at 6 GFLOP/s, the next three
     * at 205-211, as one call each; in calls of 65,536 rounds, the next launch's four pairs had the loop at a median of 213
     * and shares of 0.69-0.73, no outlier; `bench peak` read 198-207 either way in that hour).
     */
    public static double gflops(long iters, int threads) {
        float[] sink = new float[threads];
        long t = System.nanoTime();
        Parallel.forRange(threads, 1, (from, to) -> {
            for (int c = from; c < to; c++)
                for (long done = 0; done < iters; done += CALL_ROUNDS) sink[c] += fmaLoop(Math.min(CALL_ROUNDS, iters - done), c);
        });
        double secs = (System.nanoTime() - t) / 1e9;
        return 2.0 * 12 * S.length() * iters * threads / secs / 1e9;
    }

    /** Rounds per call of {@link #fmaLoop}: 12 x 65536 vector FMAs, about 0.2 ms on one core of the Zen 4 VM. */
    static final long CALL_ROUNDS = 1 << 16;

    /**
     * seed goes in as a float: passed as an int it took broadcast's long overload, and JDK 25 then ran the loop at
     * half speed (`bin/mae bench peak --threads 2` on the 2-core EPYC VM, one thread: 136.7-139.8 GFLOP/s with the
     * int, 278.8 with the float; JDK 17 269.5-282.4 either way).
     *
     * <p>Each accumulator is the FMA's addend (c = m a + c), as in the GEMM kernels, so that it is updated in place
     * (one vfmadd231ps). Written c = c m + a, with the constant a as the addend, C2 on JDK 17 with AVX2 copied a into a
     * fresh register before every FMA and, short of registers, spilled accumulators to the stack inside the loop
     * (read with hsdis): on the 2-core Zen 3 VM (AVX2) one thread read 55-57 GFLOP/s in most runs, against 85-88 for
     * this form and for the same loop in C (gcc -O2, intrinsics), measured alternately.
     */
    private static float fmaLoop(long iters, int seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), a = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, (float) seed), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3), c4 = c0.add(4), c5 = c0.add(5),
                c6 = c0.add(6), c7 = c0.add(7), c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        for (long i = 0; i < iters; i++) {
            c0 = m.fma(a, c0); c1 = m.fma(a, c1); c2 = m.fma(a, c2); c3 = m.fma(a, c3);
            c4 = m.fma(a, c4); c5 = m.fma(a, c5); c6 = m.fma(a, c6); c7 = m.fma(a, c7);
            c8 = m.fma(a, c8); c9 = m.fma(a, c9); c10 = m.fma(a, c10); c11 = m.fma(a, c11);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /**
     * Memory bandwidth in GB/s, STREAM's triad a = b + s c over three arrays of n floats each split over
     * `threads` chunks: 12 n bytes counted per pass (two reads, one write; the write-allocate read is not
     * counted, as in STREAM). n must be far above the last-level cache for a memory figure.
     */
    public static double bandwidth(int n, int passes, int threads) {
        float[] a = new float[n], b = new float[n], c = new float[n];
        java.util.Arrays.fill(b, 1f);
        java.util.Arrays.fill(c, 2f);
        triad(a, b, c, threads);                                     // first touch, JIT
        long t = System.nanoTime();
        for (int p = 0; p < passes; p++) triad(a, b, c, threads);
        double secs = (System.nanoTime() - t) / 1e9;
        return 12.0 * n * passes / secs / 1e9;
    }

    private static void triad(float[] a, float[] b, float[] c, int threads) {
        int n = a.length;
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int i = (int) ((long) n * t / threads), end = (int) ((long) n * (t + 1) / threads);
                for (int e = i + S.loopBound(end - i); i < e; i += S.length())
                    FloatVector.fromArray(S, c, i).mul(3f).add(FloatVector.fromArray(S, b, i)).intoArray(a, i);
                for (; i < end; i++) a[i] = b[i] + 3f * c[i];
            }
        });
    }

    /** Lanes of the preferred vector species (16 with AVX-512). */
    public static int lanes() { return S.length(); }
}
