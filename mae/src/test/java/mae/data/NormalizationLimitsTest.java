package mae.data;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Normalization's refusals, each naming what is wrong, and its statistics of a dataset. */
class NormalizationLimitsTest {
    static String refused(Runnable r) { return assertThrows(IllegalArgumentException.class, r::run).getMessage(); }

    @Test void means_and_stds_are_refused_unless_one_finite_positive_pair_per_channel() {
        assertEquals("normalization: mean has 2 channels, std 1", refused(() -> new Normalization(new float[]{0, 0}, new float[]{1})));
        assertEquals("normalization: mean has 0 channels, std 0", refused(() -> new Normalization(new float[0], new float[0])));
        assertEquals("normalization: channel 1 has mean 0.0, std 0.0 (std must be positive and finite)",
                refused(() -> new Normalization(new float[]{0, 0}, new float[]{1, 0})));
        assertEquals("normalization: channel 0 has mean 0.0, std -1.0 (std must be positive and finite)",
                refused(() -> new Normalization(new float[]{0}, new float[]{-1})));
        assertEquals("normalization: channel 0 has mean 0.0, std Infinity (std must be positive and finite)",
                refused(() -> new Normalization(new float[]{0}, new float[]{Float.POSITIVE_INFINITY})));
        assertEquals("normalization: channel 0 has mean NaN, std 1.0 (std must be positive and finite)",
                refused(() -> new Normalization(new float[]{Float.NaN}, new float[]{1})));
        assertEquals(1e-30f, new Normalization(new float[]{-5}, new float[]{1e-30f}).std()[0]);
    }

    @Test void metadata_values_are_checked_against_the_channels_and_each_other() {
        Map<String, String> three = Map.of("norm_mean", "0.1,0.2,0.3", "norm_std", "1,2,3");
        assertEquals(3, Normalization.fromMetadata(three, "f", 3).channels());
        assertEquals(3, Normalization.fromMetadata(three, "f", 0).channels(), "channels 0: not checked");
        assertEquals("f: metadata norm_mean has 3 and norm_std 3 values, but the model has 1 input channel (in_chans)",
                refused(() -> Normalization.fromMetadata(three, "f", 1)));
        assertEquals("f: metadata norm_mean has 1 and norm_std 3 values, but the model has 3 input channels (in_chans)",
                refused(() -> Normalization.fromMetadata(Map.of("norm_mean", "0.1", "norm_std", "1,2,3"), "f", 3)));
        assertEquals("f: metadata norm_mean has 3 and norm_std 1 values, but the model has 3 input channels (in_chans)",
                refused(() -> Normalization.fromMetadata(Map.of("norm_mean", "0.1,0.2,0.3", "norm_std", "1"), "f", 3)));
        assertEquals("f: metadata norm_mean / norm_std: channel 0 has mean 0.5, std 0.0 (std must be positive and finite)",
                refused(() -> Normalization.fromMetadata(Map.of("norm_mean", "0.5", "norm_std", "0"), "f", 1)));
        String many = String.join(",", java.util.Collections.nCopies(4097, "1"));
        assertEquals("f: metadata norm_std has 4097 values, expected one per channel",
                refused(() -> Normalization.fromMetadata(Map.of("norm_mean", "1", "norm_std", many), "f", 0)));
        String most = String.join(",", java.util.Collections.nCopies(4096, "1"));
        assertEquals(4096, Normalization.fromMetadata(Map.of("norm_mean", most, "norm_std", most), "f", 0).channels());
        String longBad = "x" + "1".repeat(120);
        assertEquals("f: metadata norm_mean = '" + longBad.substring(0, 100) + "...' is not a comma-separated list of numbers",
                refused(() -> Normalization.fromMetadata(Map.of("norm_mean", longBad, "norm_std", "1"), "f", 0)));
        String hundred = "x" + "1".repeat(99);
        assertEquals("f: metadata norm_mean = '" + hundred + "' is not a comma-separated list of numbers",
                refused(() -> Normalization.fromMetadata(Map.of("norm_mean", hundred, "norm_std", "1"), "f", 0)), "100 characters: shown whole");
    }

    @Test void the_statistics_of_a_dataset_per_channel() {
        // 2 images of 2 channels, 1 x 2 pixels: channel 0 holds 1, 3, 5, 7 (mean 4, population std sqrt 5); channel 1 is constant
        float[] px = {1, 3, 9, 9, 5, 7, 9, 9};
        Dataset d = new Dataset(px, new int[]{0, 1}, 2, 2, 1, 2, List.of("a", "b"), "toy");
        assertEquals("toy: channel 1 is constant (std 0), cannot normalize", refused(() -> Normalization.of(d)));
        float[] px2 = {1, 3, 0, 1, 5, 7, 0, 1};
        Normalization n = Normalization.of(new Dataset(px2, new int[]{0, 1}, 2, 2, 1, 2, List.of("a", "b"), "toy"));
        assertArrayEquals(new float[]{4, 0.5f}, n.mean());
        assertArrayEquals(new float[]{(float) Math.sqrt(5), 0.5f}, n.std(), 1e-6f);
    }
}
