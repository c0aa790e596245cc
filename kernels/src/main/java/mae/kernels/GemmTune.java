package mae.kernels;

import java.util.List;
import java.util.Random;

/**
 * The autotune behind {@link GemmBlocking}, in three steps. First every candidate blocking times the same three
 * products whose A is packed, 1024^3, a training step's linear layer and a forward's projection on one image, in
 * interleaved rounds (so that a slow moment of the machine hits every candidate alike), and each candidate scores the
 * geometric mean of the rates of its fastest rounds. Then the best {@link #FINALISTS} run again back to back, a
 * product at a time, and the one fastest against the others in the same moments wins ({@link #relative}). Then the
 * winner with each candidate k block for a transposed A read in place times a weight gradient ({@link #IN_PLACE}),
 * which reads its A that way, back to back in the same way, and the fastest against the others sets {@link
 * GemmBlocking#kcInPlace}.
 */
public final class GemmTune {
    private GemmTune() {}

    /**
     * (transA, transB, M, N, K), the first stage's products: 1024^3; a linear layer's forward x W^T (1664 = 128 x 13
     * tokens, 192 -> 768); a ViT-L qkv on one image's 197 tokens (1024 -> 3072), which runs Gemm's few-rows order with
     * the blocking's KC: there KC 1024 measured 171 / 140 GFLOP/s (JDK 17 / 25) against 159 / 132 at KC 512, which the
     * first shapes alone chose on JDK 25 (Zen 4 VM, paired calls). It takes that order at every KC since Gemm.fewRowsWidth;
     * before, only where its packed A fit 1.25 L2, which on the Zen 3 VM (L2 512 KiB) was KC 512 and below: its other
     * blockings ran the shared panel, on which this product ran 0.83-0.88x as fast (toggled call by call in one JVM, KC
     * 1024 MC 48), and the tune there chose KC 512 in some launches, where 1024^3 wants KC 1024 (blockings alternated call
     * by call in one JVM, 31 pairs: 181.2 against 169.5 GFLOP/s at KC 512 MC 48). Two tunes since (`bin/mae bench tune`): KC 1024 MC 48 scored
     * 156.7 and 159.2, the best KC 512 144.3 and 151.2.
     */
    public static final int[][] SHAPES = {{0, 0, 1024, 1024, 1024}, {0, 1, 1664, 768, 192}, {0, 1, 197, 3072, 1024}};

    /**
     * The second stage's product: a weight gradient dY^T x whose A (dY^T) is read in place on every machine (N within
     * Gemm.IN_PLACE_COLUMNS): fmnist's patch embedding, 192 outputs of 4 x 4 x 1 pixels over 128 x 49 patches. (That
     * linear layer's dW, TN 768 x 192 x 1664, was tuned here before; with AVX2 its A is now packed.)
     */
    public static final int[][] IN_PLACE = {{1, 0, 192, 16, 6272}};

    /** A hash of both stages' products, in hex: part of the blocking cache's key, so that new products tune again. */
    static String shapesKey() { return Integer.toHexString(java.util.Arrays.deepHashCode(new int[][][]{SHAPES, IN_PLACE})); }

    /**
     * The autotune of {@link GemmBlocking}: the finalist fastest against the others ({@link #tune}, 5 counted rounds
     * first), with the k block for a transposed A read in place fastest against the others on {@link #IN_PLACE}.
     */
    static GemmBlocking best(List<GemmBlocking> candidates) {
        return tune(candidates, 5).best();
    }

    /**
     * How many of the first round's best candidates go on to the final, and its counted rounds. The first round's
     * fastest-round score alone let a slow second of the host choose a slower blocking: on the 2-core Zen 4 VM (JDK 17),
     * 2 of 13 fresh-JVM tunes in half an hour chose the 6-row kernel (KC 1024 or 512, MC 96), and one KC 768 MC 48. The
     * 6-row KC 1024 MC 96 against the 12-row KC 1024 MC 48, paired call by call in one JVM (41 pairs each): 0.92 at
     * 1024^3, 0.97 at ViT-B's 400 x 2304 x 768 (NN and NT); a quiet `bin/mae bench tune` (9 rounds) scored the 6-row
     * candidates 5.5% below the best, and in those tunes they had come within 1% of it. With the final, 16 fresh-JVM
     * tunes in the same half hour all chose the 12-row kernel at KC 1024 (MC 48 in 12, MC 96 in 3) but one at KC 512
     * MC 96 (relative speeds 1.027 against 1.022 and 1.021: a tie). A 6-row candidate reached the final in 8 of them
     * and lost each (0.95-1.035 against the winners' 1.02-1.06), in one as the first round's winner. Those 16 tunes took
     * 5.8-7.9 s, against 5.3-5.9 s for the 6 before the final (fresh JVMs, the same half hour). The first round's order
     * changed with the final (each product in turn, every candidate back to back, from the next candidate each round);
     * it was not measured apart.
     */
    public static final int FINALISTS = 4, FINAL_ROUNDS = 7;

    /**
     * The last step's rounds: the k blocks for a transposed A read in place, back to back, judged as the final is
     * ({@link #relative}). Its product (38.5 MFLOP) takes half a millisecond at the 72-78 GFLOP/s `bin/mae bench tune`
     * measured, so 21 rounds of 5 calls take about 55 ms. On the 2-core Zen 4 VM
     * (JDK 17), a quiet `bin/mae bench tune` (the fastest of 9 rounds) put k blocks 256 and 384 at 0.92 and 0.95 of 1024,
     * and 22 fresh-JVM tunes by the fastest round chose 768 or 1024 in 15, 256 to 512 in 7; back to back, 8 of 8 chose
     * 768 or 1024 (1.01-1.13 against the others), where 256 read 0.94-0.98 in 7 of them.
     */
    public static final int IN_PLACE_ROUNDS = 21;

    /** All three steps' measurements (for the autotune and `bin/mae bench tune`), rounds counted rounds in the first. */
    public static Tune tune(List<GemmBlocking> candidates, int rounds) {
        double[][] rates = rates(candidates, rounds, SHAPES);
        List<GemmBlocking> finalists = finalists(candidates, rates, FINALISTS);
        double[] relative = relative(seconds(finalists, FINAL_ROUNDS, SHAPES));
        List<GemmBlocking> inPlace = GemmBlocking.inPlaceCandidates(finalists.get(best(relative)));
        return new Tune(candidates, rates, finalists, relative, inPlace, relative(seconds(inPlace, IN_PLACE_ROUNDS, IN_PLACE)));
    }

    /**
     * The candidates and their rates on {@link #SHAPES}; the finalists (best score first) and their {@link #relative}
     * speeds; the final's winner with each k block for a transposed A read in place, and their relative speeds on
     * {@link #IN_PLACE}.
     */
    public record Tune(List<GemmBlocking> candidates, double[][] rates, List<GemmBlocking> finalists, double[] relative,
                       List<GemmBlocking> inPlace, double[] inPlaceRelative) {
        /** The final's winner. */
        public GemmBlocking first() { return finalists.get(GemmTune.best(relative)); }

        /** The autotune's choice: the final's winner with the last step's k block. */
        public GemmBlocking best() { return inPlace.get(GemmTune.best(inPlaceRelative)); }
    }

    /** The n candidates with the best {@link #score}s, best first (of equal ones, the earlier candidate first). */
    static List<GemmBlocking> finalists(List<GemmBlocking> candidates, double[][] rates, int n) {
        return java.util.stream.IntStream.range(0, candidates.size()).boxed()
                .sorted(java.util.Comparator.comparingDouble((Integer i) -> -score(rates[i])))
                .limit(n).map(candidates::get).toList();
    }

    /**
     * Each finalist's speed against the others, from seconds[finalist][shape][round] of calls made back to back
     * ({@link #seconds}): per shape, the median over rounds of the round's geometric mean time over the finalist's own
     * (above 1: faster than the finalists together); then the geometric mean over the shapes. A slow second of the host
     * slows the calls it covers alike, so it moves a round's ratios far less than it moves a fastest round.
     */
    static double[] relative(double[][][] seconds) {
        int n = seconds.length, shapes = seconds[0].length, rounds = seconds[0][0].length;
        double[][] logMean = new double[shapes][rounds];             // each round's log geometric mean time, per shape
        for (double[][] f : seconds)
            for (int s = 0; s < shapes; s++)
                for (int r = 0; r < rounds; r++) logMean[s][r] += Math.log(f[s][r]) / n;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double logSum = 0;
            for (int s = 0; s < shapes; s++) {
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) ratio[r] = Math.exp(logMean[s][r]) / seconds[i][s][r];
                java.util.Arrays.sort(ratio);
                logSum += Math.log(rounds % 2 == 1 ? ratio[rounds / 2] : Math.sqrt(ratio[rounds / 2 - 1] * ratio[rounds / 2]));
            }
            out[i] = Math.exp(logSum / shapes);
        }
        return out;
    }

    /** The index of the largest value; the first of equal ones. */
    static int best(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /** The geometric mean of a candidate's rates: no one shape decides. */
    public static double score(double[] rates) {
        double logSum = 0;
        for (double r : rates) logSum += Math.log(r);
        return Math.exp(logSum / rates.length);
    }

    /** GFLOP/s of every candidate on every shape (its fastest round), for the autotune and `bin/mae bench tune`. */
    public static double[][] rates(List<GemmBlocking> candidates, int rounds, int[][] shapes) {
        double[][][] seconds = seconds(candidates, rounds, shapes);
        double[][] rates = new double[candidates.size()][shapes.length];
        for (int i = 0; i < candidates.size(); i++)
            for (int s = 0; s < shapes.length; s++) rates[i][s] = rate(shapes[s], seconds[i][s]);
        return rates;
    }

    /**
     * seconds[candidate][shape][round] of rounds counted rounds after one that warms the JIT up: in each round, each
     * shape in turn, every candidate once, back to back, starting from the next candidate each round (so that no
     * candidate always follows the same one).
     */
    static double[][][] seconds(List<GemmBlocking> candidates, int rounds, int[][] shapes) {
        if (candidates.isEmpty()) throw new IllegalArgumentException("GEMM autotune: no candidates");
        Random r = new Random(1);
        int n = candidates.size();
        float[][] a = new float[shapes.length][], b = new float[shapes.length][], c = new float[shapes.length][];
        for (int s = 0; s < shapes.length; s++) {
            a[s] = random(r, shapes[s][2] * shapes[s][4]);
            b[s] = random(r, shapes[s][4] * shapes[s][3]);
            c[s] = new float[shapes[s][2] * shapes[s][3]];
        }
        double[][][] seconds = new double[n][shapes.length][rounds];
        for (int round = -1; round < rounds; round++)            // round -1 warms the JIT up and is not counted
            for (int s = 0; s < shapes.length; s++)
                for (int t = 0; t < n; t++) {
                    int i = Math.floorMod(t + round, n);
                    long t0 = System.nanoTime();
                    run(candidates.get(i), shapes[s], a[s], b[s], c[s]);
                    if (round >= 0) seconds[i][s][round] = (System.nanoTime() - t0) / 1e9;
                }
        return seconds;
    }

    /**
     * GFLOP/s of a (transA, transB, M, N, K) product from the seconds of its rounds: its fastest round. A busy host
     * only ever slows a call down, so the fastest round is the one nearest the blocking's own speed; a median moves
     * once half the rounds are slowed. On the 2-core Zen 3 VM in a noisy phase, five autotunes of 5 rounds in one JVM
     * (one thread): the candidates' geometric means by median time 29-66 GFLOP/s from one tune to the next, by fastest
     * round 38-69, and a launch's autotune by the median had cached KC 1024 MC 96, whose fastest rounds were 38-66
     * against 60-69 for KC 512 (1024^3 one thread then 45-50 GFLOP/s against numpy's 64-69).
     */
    static double rate(int[] shape, double[] seconds) {
        double best = Double.POSITIVE_INFINITY;
        for (double t : seconds) best = Math.min(best, t);
        return 2.0 * shape[2] * shape[3] * shape[4] / best / 1e9;
    }

    /** The product a shape names, C = op(A) op(B) with the shape's transposes: what the autotune times. */
    static void run(GemmBlocking g, int[] sh, float[] a, float[] b, float[] c) {
        boolean ta = sh[0] == 1, tb = sh[1] == 1;
        int M = sh[2], N = sh[3], K = sh[4];
        Gemm.gemm(g, ta, tb, M, N, K, 1f, a, 0, ta ? M : K, b, 0, tb ? K : N, 0f, c, 0, N);
    }

    private static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
