package mae.eval;

import mae.io.Progress;

/**
 * k-nearest-neighbour classification on L2-normalized features (cosine similarity), each neighbour's vote
 * weighted by exp(similarity / T) as in the DINO/InstDisc protocol.
 */
public final class Knn {
    private Knn() {}

    /** Top-1 accuracy of classifying the query features (Nq, D) with the bank (Nb, D). */
    public static double accuracy(float[] bank, int[] bankLabels, float[] query, int[] queryLabels, int D, int k, double temperature, int classes) {
        int nb = bankLabels.length, nq = queryLabels.length;
        float[] b = normalize(bank, nb, D), q = normalize(query, nq, D);
        int correct = 0;
        float[] sims = new float[nb];
        int[] top = new int[k];
        Progress progress = Progress.start("kNN (k=" + k + ", bank " + nb + ")", nq, "queries");
        for (int i = 0; i < nq; i++) {
            for (int j = 0; j < nb; j++) sims[j] = mae.kernels.Gemm.dot(q, i * D, b, j * D, D);
            int kk = topK(sims, Math.min(k, nb), top);
            double[] votes = new double[classes];
            for (int t = 0; t < kk; t++) votes[bankLabels[top[t]]] += Math.exp(sims[top[t]] / temperature);
            int best = 0;
            for (int c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
            if (best == queryLabels[i]) correct++;
            if ((i + 1) % 64 == 0 || i + 1 == nq) progress.step(i + 1);
        }
        progress.close();
        return (double) correct / nq;
    }

    static float[] normalize(float[] x, int n, int D) {
        float[] y = new float[x.length];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int d = 0; d < D; d++) s += (double) x[i * D + d] * x[i * D + d];
            float inv = (float) (1 / Math.max(1e-12, Math.sqrt(s)));
            for (int d = 0; d < D; d++) y[i * D + d] = x[i * D + d] * inv;
        }
        return y;
    }

    /** Indices of the k largest values (unordered), by repeated selection into a small heap-free buffer. */
    static int topK(float[] s, int k, int[] out) {
        int n = 0;
        for (int j = 0; j < s.length; j++) {
            if (n < k) { out[n++] = j; continue; }
            int min = 0;
            for (int t = 1; t < k; t++) if (s[out[t]] < s[out[min]]) min = t;
            if (s[j] > s[out[min]]) out[min] = j;
        }
        return n;
    }
}
