package mae.eval;

import mae.io.Progress;
import mae.tensor.Rng;

/**
 * The paper's linear probe on frozen features: BatchNorm without affine (eps 1e-6) then a linear head
 * (trunc-normal std 0.01), SGD with momentum 0.9, no weight decay, cosine schedule with warmup, cross-entropy.
 * The features are computed once (no augmentation), so the BatchNorm has no parameters to train and the
 * gradient stops at it: only the head learns.
 */
public final class LinearProbe {
    private LinearProbe() {}

    /** weightDecay: L2 decay of the head's weights (not the bias); minLr: where the cosine ends. */
    public record Settings(int epochs, int batch, double lr, int warmupEpochs, long seed, double weightDecay, double minLr) {
        /** No weight decay, the cosine down to 0 (the paper's probe). */
        public Settings(int epochs, int batch, double lr, int warmupEpochs, long seed) { this(epochs, batch, lr, warmupEpochs, seed, 0, 0); }
    }

    /** Trains on (n, D) features and returns top-1 accuracy on the test features. */
    public static double run(float[] train, int[] trainLabels, float[] test, int[] testLabels, int D, int classes, Settings s) {
        return fit(train, trainLabels, D, classes, s).accuracy(test, testLabels);
    }

    /**
     * A trained probe: the head (W as (classes, D) row-major, b) and the BatchNorm's running statistics, which
     * normalize the features at evaluation.
     */
    record Probe(float[] W, float[] b, float[] runMean, float[] runVar, int D, int classes) {
        /** The class of the largest logit of feature vector x[off .. off + D) (the first on ties). */
        int predict(float[] x, int off) {
            float[] xn = new float[D], logits = new float[classes];
            for (int d = 0; d < D; d++) xn[d] = (float) ((x[off + d] - runMean[d]) / Math.sqrt(runVar[d] + 1e-6));
            softmax(W, b, xn, 0, D, classes, logits);
            int best = 0;
            for (int k = 1; k < classes; k++) if (logits[k] > logits[best]) best = k;
            return best;
        }

        /** Top-1 accuracy on (m, D) features. */
        double accuracy(float[] test, int[] testLabels) {
            int correct = 0, m = testLabels.length;
            for (int i = 0; i < m; i++) if (predict(test, i * D) == testLabels[i]) correct++;
            return (double) correct / m;
        }
    }

    /** Trains the probe on (n, D) features. */
    static Probe fit(float[] train, int[] trainLabels, int D, int classes, Settings s) {
        int n = trainLabels.length;
        Rng rng = new Rng(s.seed());
        float[] W = new float[classes * D], b = new float[classes], vW = new float[W.length], vb = new float[classes];
        for (int i = 0; i < W.length; i++) W[i] = (float) truncNormal(rng) * 0.01f;
        float[] runMean = new float[D], runVar = new float[D];
        java.util.Arrays.fill(runVar, 1f);
        int stepsPerEpoch = Math.max(1, n / s.batch()), total = stepsPerEpoch * s.epochs();
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        float[] xhat = new float[s.batch() * D], logits = new float[classes];
        Progress progress = Progress.start("linear probe (" + s.epochs() + " epochs)", total, "steps");
        for (int step = 0; step < total; step++) {
            if (step % stepsPerEpoch == 0) shuffle(perm, rng);
            int off = (step % stepsPerEpoch) * s.batch(), B = s.batch();
            // BatchNorm (training mode): batch statistics, and running ones for evaluation (momentum 0.1).
            for (int d = 0; d < D; d++) {
                double m = 0, v = 0;
                for (int i = 0; i < B; i++) m += train[perm[off + i] * D + d];
                m /= B;
                for (int i = 0; i < B; i++) { double c = train[perm[off + i] * D + d] - m; v += c * c; }
                v /= B;
                float inv = (float) (1 / Math.sqrt(v + 1e-6));
                for (int i = 0; i < B; i++) xhat[i * D + d] = (float) ((train[perm[off + i] * D + d] - m) * inv);
                runMean[d] = (float) (0.9 * runMean[d] + 0.1 * m);
                runVar[d] = (float) (0.9 * runVar[d] + 0.1 * v * B / Math.max(1, B - 1));
            }
            float[] gW = new float[W.length], gb = new float[classes];
            for (int i = 0; i < B; i++) {
                softmax(W, b, xhat, i * D, D, classes, logits);
                logits[trainLabels[perm[off + i]]] -= 1;                   // dL/dlogits = p - onehot
                for (int k = 0; k < classes; k++) {
                    gb[k] += logits[k] / B;
                    for (int d = 0; d < D; d++) gW[k * D + d] += logits[k] * xhat[i * D + d] / B;
                }
            }
            double e = (double) step / stepsPerEpoch;
            double lr = e < s.warmupEpochs() ? s.lr() * e / s.warmupEpochs()
                    : s.minLr() + (s.lr() - s.minLr()) * 0.5 * (1 + Math.cos(Math.PI * (e - s.warmupEpochs()) / Math.max(1e-9, s.epochs() - s.warmupEpochs())));
            float wd = (float) s.weightDecay();                            // SGD's coupled decay, as torch.optim.SGD
            for (int i = 0; i < W.length; i++) { vW[i] = 0.9f * vW[i] + gW[i] + wd * W[i]; W[i] -= (float) lr * vW[i]; }
            for (int k = 0; k < classes; k++) { vb[k] = 0.9f * vb[k] + gb[k]; b[k] -= (float) lr * vb[k]; }
            progress.step(step + 1);
        }
        progress.close();
        return new Probe(W, b, runMean, runVar, D, classes);
    }

    private static void softmax(float[] W, float[] b, float[] x, int xo, int D, int K, float[] out) {
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < K; k++) {
            float z = b[k];
            for (int d = 0; d < D; d++) z += W[k * D + d] * x[xo + d];
            out[k] = z;
            max = Math.max(max, z);
        }
        double sum = 0;
        for (int k = 0; k < K; k++) { out[k] = (float) Math.exp(out[k] - max); sum += out[k]; }
        for (int k = 0; k < K; k++) out[k] /= (float) sum;
    }

    /** Standard normal truncated to [-2, 2] (by redrawing). */
    static double truncNormal(Rng rng) {
        double v;
        do { v = rng.nextGaussian(); } while (Math.abs(v) > 2);
        return v;
    }

    static void shuffle(int[] p, Rng rng) {
        for (int i = p.length - 1; i > 0; i--) { int j = rng.nextInt(i + 1); int t = p[i]; p[i] = p[j]; p[j] = t; }
    }
}
