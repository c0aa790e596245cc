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
}
