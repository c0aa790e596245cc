package mae.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class KnnTest {
    @Test void knn_classifies_separated_clusters() {
        float[] bank = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
        float[] query = {0.95f, 0.05f, 0.05f, 0.95f};
        assertEquals(1.0, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{0, 1}, 2, 2, 0.07, 2));
        assertEquals(0.0, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{1, 0}, 2, 2, 0.07, 2));
    }
}
