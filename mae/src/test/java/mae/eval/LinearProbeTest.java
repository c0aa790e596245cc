package mae.eval;

import mae.tensor.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LinearProbeTest {
    @Test void linear_probe_learns_a_separable_problem_and_not_a_random_one() {
        Rng r = new Rng(5);
        int n = 600, D = 8;
        float[] x = new float[n * D];
        int[] y = new int[n], noise = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            noise[i] = r.nextInt(3);
            for (int d = 0; d < D; d++) x[i * D + d] = (float) r.nextGaussian() + (d == y[i] ? 3 : 0);
        }
        LinearProbe.Settings s = new LinearProbe.Settings(10, 50, 0.1, 1, 0);
        double acc = LinearProbe.run(x, y, x, y, D, 3, s);
        assertTrue(acc > 0.9, "separable: " + acc);
        double chance = LinearProbe.run(x, noise, x, noise, D, 3, s);
        assertTrue(chance < 0.6, "labels unrelated to the features: " + chance);
    }

    /**
     * Every step checked against a straightforward double-precision reference of the paper's probe: the head
     * initialized from trunc-normal(0.01) draws, a reshuffle at each epoch (Fisher-Yates on the same Rng), BatchNorm
     * with the batch's (biased) statistics and running ones (momentum 0.1, unbiased variance), softmax cross-entropy
     * gradients averaged over the batch, SGD with momentum 0.9 and coupled weight decay on W only, the lr warmed up
     * linearly then a cosine to minLr. 7 images in batches of 3: two steps per epoch, one image left out each epoch;
     * a fourth feature with a batch variance near BatchNorm's eps.
     */
    @Test void each_step_is_batchnorm_then_sgd_with_momentum_as_the_reference() {
        int n = 7, D = 4, K = 3, B = 3, epochs = 4, warm = 2;
        double lr0 = 0.5, wd = 0.1, minLr = 0.05;
        Rng r = new Rng(2);
        float[] x = new float[n * D];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = (i * 2) % K;
            for (int d = 0; d < 3; d++) x[i * D + d] = (float) r.nextGaussian() * (d + 1) + (d == y[i] ? 2 : 0) + 0.5f * d;
            x[i * D + 3] = (float) r.nextGaussian() * 1e-3f;            // a batch variance near 1e-6: BatchNorm's eps shows
        }
        LinearProbe.Probe p = LinearProbe.fit(x, y, D, K, new LinearProbe.Settings(epochs, B, lr0, warm, 11, wd, minLr));

        Rng rng = new Rng(11);
        double[] W = new double[K * D], b = new double[K], vW = new double[K * D], vb = new double[K], rm = new double[D], rv = new double[D];
        for (int i = 0; i < W.length; i++) {
            double v;
            do { v = rng.nextGaussian(); } while (Math.abs(v) > 2);
            W[i] = (float) v * 0.01f;
        }
        java.util.Arrays.fill(rv, 1);
        int[] perm = {0, 1, 2, 3, 4, 5, 6};
        int spe = n / B;
        for (int step = 0; step < spe * epochs; step++) {
            if (step % spe == 0)
                for (int i = n - 1; i > 0; i--) { int j = rng.nextInt(i + 1); int t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
            int off = (step % spe) * B;
            double[][] xh = new double[B][D];
            for (int d = 0; d < D; d++) {
                double m = 0, v = 0;
                for (int i = 0; i < B; i++) m += x[perm[off + i] * D + d] / (double) B;
                for (int i = 0; i < B; i++) v += Math.pow(x[perm[off + i] * D + d] - m, 2) / B;
                for (int i = 0; i < B; i++) xh[i][d] = (x[perm[off + i] * D + d] - m) / Math.sqrt(v + 1e-6);
                rm[d] = 0.9 * rm[d] + 0.1 * m;
                rv[d] = 0.9 * rv[d] + 0.1 * v * B / (B - 1);
            }
            double[] gW = new double[K * D], gb = new double[K];
            for (int i = 0; i < B; i++) {
                double[] z = new double[K];
                double sum = 0;
                for (int k = 0; k < K; k++) {
                    z[k] = b[k];
                    for (int d = 0; d < D; d++) z[k] += W[k * D + d] * xh[i][d];
                }
                for (int k = 0; k < K; k++) sum += Math.exp(z[k]);
                for (int k = 0; k < K; k++) {
                    double g = Math.exp(z[k]) / sum - (k == y[perm[off + i]] ? 1 : 0);
                    gb[k] += g / B;
                    for (int d = 0; d < D; d++) gW[k * D + d] += g * xh[i][d] / B;
                }
            }
            double e = (double) step / spe;
            double lr = e < warm ? lr0 * e / warm : minLr + (lr0 - minLr) * 0.5 * (1 + Math.cos(Math.PI * (e - warm) / (epochs - warm)));
            for (int i = 0; i < W.length; i++) { vW[i] = 0.9 * vW[i] + gW[i] + wd * W[i]; W[i] -= lr * vW[i]; }
            for (int k = 0; k < K; k++) { vb[k] = 0.9 * vb[k] + gb[k]; b[k] -= lr * vb[k]; }
        }
        for (int i = 0; i < W.length; i++) assertEquals(W[i], p.W()[i], 2e-5, "W[" + i + "]");
        for (int k = 0; k < K; k++) assertEquals(b[k], p.b()[k], 2e-5, "b[" + k + "]");
        for (int d = 0; d < D; d++) {
            assertEquals(rm[d], p.runMean()[d], 1e-5, "running mean " + d);
            assertEquals(rv[d], p.runVar()[d], 1e-5 * rv[d], "running variance " + d);
        }
        assertTrue(Math.abs(b[0]) > 1e-3, "the head moved: b[0] = " + b[0]);
    }

    /** Evaluation normalizes with the running statistics, then takes the largest logit (the first of equal ones). */
    @Test void the_probe_predicts_the_argmax_of_the_normalized_features() {
        // class 1 reads feature 0, class 0 is a constant 0; feature 0 normalized by mean 10, variance 4
        LinearProbe.Probe p = new LinearProbe.Probe(new float[]{0, 0, 1, 0}, new float[]{0, 0}, new float[]{10, 0}, new float[]{4 - 1e-6f, 1}, 2, 2);
        assertEquals(1, p.predict(new float[]{11, 0}, 0), "(11 - 10) / 2 > 0");
        assertEquals(0, p.predict(new float[]{9, 5}, 0), "(9 - 10) / 2 < 0, though 9 > 0 unnormalized");
        assertEquals(0, p.predict(new float[]{10, 0}, 0), "a tie goes to the first class");
        assertEquals(1, p.predict(new float[]{0, 0, 12, 0}, 2), "from the offset");
        assertEquals(2 / 3.0, p.accuracy(new float[]{11, 0, 9, 0, 12, 0}, new int[]{1, 1, 1}), 1e-12);
        // softmax probabilities stay ordered like the logits when they are large
        LinearProbe.Probe big = new LinearProbe.Probe(new float[]{1, 0, 0, 1, 0.5f, 0.5f}, new float[]{0, 0, 0}, new float[2], new float[]{1 - 1e-6f, 1 - 1e-6f}, 2, 3);
        assertEquals(0, big.predict(new float[]{300, 200}, 0));
        assertEquals(1, big.predict(new float[]{200, 300}, 0));
        assertEquals(0, big.predict(new float[]{300, 300}, 0), "300, 300, 300: a tie, the first class");
    }

    /** The head's init: standard normal draws redrawn outside [-2, 2]. */
    @Test void trunc_normal_stays_within_two_standard_deviations() {
        Rng r = new Rng(3);
        double max = 0, sq = 0;
        for (int i = 0; i < 20000; i++) {
            double v = LinearProbe.truncNormal(r);
            max = Math.max(max, Math.abs(v));
            sq += v * v;
        }
        assertTrue(max <= 2 && max > 1.95, "max |v| " + max);
        assertEquals(0.774, sq / 20000, 0.03, "the variance of N(0, 1) truncated to [-2, 2]");
    }

    /** Progress (quiet time off): a line per quarter of the steps, under the probe's name. */
    @Test void the_probe_reports_its_steps() {
        float[] x = new float[40 * 2];
        int[] y = new int[40];
        for (int i = 0; i < 40; i++) { x[i * 2 + (i % 2)] = 1; y[i] = i % 2; }
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        mae.io.Progress.setTaskQuietSeconds(0);
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            LinearProbe.run(x, y, x, y, 2, 2, new LinearProbe.Settings(2, 10, 0.1, 0, 1));
        } finally {
            System.setOut(old);
            mae.io.Progress.setTaskQuietSeconds(2);
        }
        String[] lines = buf.toString(java.nio.charset.StandardCharsets.UTF_8).trim().split("\n");
        assertEquals(4, lines.length, buf.toString());
        assertTrue(lines[0].startsWith("linear probe (2 epochs): 2/8 steps  ETA "), lines[0]);
        assertTrue(lines[3].startsWith("linear probe (2 epochs): 8/8 steps  done in "), lines[3]);
    }
}
