package mae.eval;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kNN on cosine similarity with exp(sim / T) votes. Each case is built so that the parameter under test changes the
 * answer: k, the metric (cosine, not L2 distance or a raw dot product), the temperature, the scale of the vectors.
 */
class KnnTest {
    /** The predicted class of one query: accuracy 1 against label c means c was predicted. */
    static int predict(float[] bank, int[] labels, float[] query, int D, int k, double T, int classes) {
        int found = -1;
        for (int c = 0; c < classes; c++)
            if (Knn.accuracy(bank, labels, query, new int[]{c}, D, k, T, classes) == 1.0) {
                assertEquals(-1, found, "one class predicted");
                found = c;
            }
        assertNotEquals(-1, found, "some class predicted");
        return found;
    }

    @Test void knn_classifies_separated_clusters() {
        float[] bank = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
        float[] query = {0.95f, 0.05f, 0.05f, 0.95f};
        assertEquals(1.0, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{0, 1}, 2, 2, 0.07, 2));
        assertEquals(0.0, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{1, 0}, 2, 2, 0.07, 2));
        assertEquals(0.5, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{0, 0}, 2, 2, 0.07, 2), "accuracy is the fraction right");
    }

    /**
     * One class-0 neighbour almost on the query's direction, three class-1 neighbours at about 17 degrees: the
     * nearest alone says 0; the four nearest say 1 (3 e^(0.95/T) > e^(1.0/T) at T = 0.07). The four far points of
     * class 2 count only when k takes in the whole bank.
     */
    @Test void k_decides_between_the_nearest_neighbour_and_the_majority() {
        float[] bank = {-1, 0.2f, 1, 0.01f, 1, 0.3f, -1, -0.1f, 1, -0.3f, 1, 0.35f, -1, 0, -1, 0.05f};
        int[] labels = {2, 0, 1, 2, 1, 1, 2, 2};
        float[] q = {1, 0};
        assertEquals(0, predict(bank, labels, q, 2, 1, 0.07, 3));
        assertEquals(0, predict(bank, labels, q, 2, 2, 0.07, 3), "one class-1 neighbour does not outvote the nearest");
        assertEquals(1, predict(bank, labels, q, 2, 4, 0.07, 3));
        assertEquals(2, predict(bank, labels, q, 2, 8, 100, 3), "k = the bank: the four class-2 points outvote, nearly equally weighted at T = 100");
        assertEquals(2, predict(bank, labels, q, 2, 20, 100, 3), "k above the bank size uses the whole bank");
    }

    /** Cosine, not L2: a far point in the query's direction beats a near one at 45 degrees. */
    @Test void the_metric_is_cosine_not_euclidean_distance() {
        float[] bank = {10, 0, 0.5f, 0.5f};
        assertEquals(0, predict(bank, new int[]{0, 1}, new float[]{1, 0}, 2, 1, 0.07, 2));
    }

    /** Cosine, not a raw dot product: a short vector in the query's direction beats a long one at 45 degrees. */
    @Test void the_metric_is_cosine_not_a_raw_dot_product() {
        float[] bank = {0.1f, 0, 3, 3};
        assertEquals(0, predict(bank, new int[]{0, 1}, new float[]{1, 0}, 2, 1, 0.07, 2));
        assertEquals(0, predict(bank, new int[]{0, 1}, new float[]{5, 0}, 2, 1, 0.07, 2));
    }

    /**
     * Votes are weighted by exp(sim / T): one very close class-0 neighbour outweighs two class-1 neighbours at a low
     * temperature; at a high one the weights even out and the two win. Scaling the query or a bank vector changes
     * nothing (the similarity is of unit vectors, so the effective temperature does not move).
     */
    @Test void the_temperature_weights_the_votes_and_vector_lengths_do_not() {
        float[] bank = {1, 0, 1, 0.6f, 1, -0.6f};
        int[] labels = {0, 1, 1};
        assertEquals(0, predict(bank, labels, new float[]{1, 0}, 2, 3, 0.07, 2));
        assertEquals(1, predict(bank, labels, new float[]{1, 0}, 2, 3, 10, 2));
        assertEquals(0, predict(bank, labels, new float[]{50, 0}, 2, 3, 0.07, 2), "a long query");
        assertEquals(0, predict(bank, labels, new float[]{0.02f, 0}, 2, 3, 0.07, 2), "a short query");
        assertEquals(1, predict(bank, labels, new float[]{0.02f, 0}, 2, 3, 10, 2), "a short query at T = 10");
        float[] scaled = {0.01f, 0, 30, 18, 1, -0.6f};
        assertEquals(0, predict(scaled, labels, new float[]{1, 0}, 2, 3, 0.07, 2), "bank vectors of other lengths");
        assertEquals(1, predict(scaled, labels, new float[]{1, 0}, 2, 3, 10, 2), "bank vectors of other lengths at T = 10");
    }

    /** More dimensions than the vector width, so the vectorized dot product and its tail both count. */
    @Test void every_dimension_counts() {
        int D = 37;
        float[] bank = new float[2 * D], q = new float[D];
        for (int d = 0; d < D; d++) { bank[d] = 1; bank[D + d] = 1; q[d] = 1; }
        bank[D - 1] = -30;                   // class 0 differs from the query only in the last (tail) element
        bank[D + 0] = -3;                    // class 1 only in the first, by less
        assertEquals(1, predict(bank, new int[]{0, 1}, q, D, 1, 0.07, 2));
        bank[D - 1] = 1;
        bank[0] = -30;
        assertEquals(1, predict(bank, new int[]{0, 1}, q, D, 1, 0.07, 2));
    }

    @Test void normalize_makes_unit_rows_and_leaves_zero_rows_zero() {
        float[] y = Knn.normalize(new float[]{3, 4, 0, 0, -2, 0}, 3, 2);
        assertArrayEquals(new float[]{0.6f, 0.8f, 0, 0, -1, 0}, y, 1e-7f);
    }

    @Test void top_k_finds_the_largest_wherever_they_are() {
        float[] s = {0.1f, 0.9f, -0.5f, 0.95f, 0.3f, 0.92f, 0.2f, -1f, 0.91f};
        int[] out = new int[4];
        assertEquals(4, Knn.topK(s, 4, out));
        int[] got = out.clone();
        Arrays.sort(got);
        assertArrayEquals(new int[]{1, 3, 5, 8}, got);
        assertEquals(2, Knn.topK(new float[]{5, 1}, 2, out));
        assertEquals(1, Knn.topK(s, 1, out));
        assertEquals(3, out[0]);
        // the minimum of the kept set is replaced each time: a descending run then a late maximum
        float[] d = {9, 8, 7, 6, 5, 10};
        Knn.topK(d, 3, out);
        got = Arrays.copyOf(out, 3);
        Arrays.sort(got);
        assertArrayEquals(new int[]{0, 1, 5}, got);
    }

    /** Equal votes go to the lowest class index (argmax's first), and a bank smaller than k uses all of it. */
    @Test void equal_votes_go_to_the_first_class() {
        float[] bank = {1, 0, 1, 0}, query = {1, 0};                // two identical bank vectors, classes 1 and 0
        assertEquals(1.0, Knn.accuracy(bank, new int[]{1, 0}, query, new int[]{0}, 2, 2, 0.07, 2), "a tie: class 0");
        assertEquals(0.0, Knn.accuracy(bank, new int[]{1, 0}, query, new int[]{1}, 2, 2, 0.07, 2));
        assertEquals(1.0, Knn.accuracy(bank, new int[]{1, 0}, query, new int[]{0}, 2, 20, 0.07, 3), "k 20 on a bank of 2");
    }

    /** One batch's largest activation (MLP hidden or attention scores) stays under 16M floats. */
    @Test void the_feature_batch_is_capped_by_the_largest_activation() {
        mae.vit.VisionTransformer small = new mae.vit.VisionTransformer(new mae.vit.Params(), 28, 7, 1, 32, 1, 2, 4f, new mae.tensor.Rng(1));
        assertEquals(100, Features.batchFor(small, 100));
        assertEquals(16777216 / (17 * 128), Features.batchFor(small, 1_000_000), "17 tokens x the MLP's 128");
        mae.vit.VisionTransformer wide = new mae.vit.VisionTransformer(new mae.vit.Params(), 64, 2, 1, 8, 1, 2, 4f, new mae.tensor.Rng(1));
        assertEquals(16777216 / (1025L * 2 * 1025), Features.batchFor(wide, 1_000_000), "1025 tokens x 2 heads x 1025 scores");
        mae.vit.VisionTransformer huge = new mae.vit.VisionTransformer(new mae.vit.Params(), 128, 2, 1, 8, 1, 2, 4f, new mae.tensor.Rng(1));
        assertEquals(1, Features.batchFor(huge, 64), "never below one image");
    }

    /** Progress (quiet time off) is reported every 64 queries and at the last, one line per quarter passed. */
    @Test void knn_reports_progress_every_64_queries() {
        int nq = 130, D = 2;
        float[] bank = {1, 0, 0, 1}, q = new float[nq * D];
        int[] ql = new int[nq];
        for (int i = 0; i < nq; i++) { q[i * D + (i % 2)] = 1; ql[i] = i % 2; }
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        double acc;
        mae.io.Progress.setTaskQuietSeconds(0);
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            acc = Knn.accuracy(bank, new int[]{0, 1}, q, ql, D, 1, 0.07, 2);
        } finally {
            System.setOut(old);
            mae.io.Progress.setTaskQuietSeconds(2);
        }
        assertEquals(1.0, acc);
        String[] lines = buf.toString(java.nio.charset.StandardCharsets.UTF_8).trim().split("\n");
        assertEquals(3, lines.length, buf.toString());
        assertTrue(lines[0].startsWith("kNN (k=1, bank 2): 64/130 queries  ETA "), lines[0]);
        assertTrue(lines[1].startsWith("kNN (k=1, bank 2): 128/130 queries  ETA "), lines[1]);
        assertTrue(lines[2].startsWith("kNN (k=1, bank 2): 130/130 queries  done in "), lines[2]);
    }
}
