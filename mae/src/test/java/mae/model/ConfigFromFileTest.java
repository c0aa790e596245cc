package mae.model;

import mae.eval.Encoders;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A config read from a file's __metadata__ is checked against sane limits and against the file's own tensors
 * before any model is allocated: a small file cannot make a command allocate for minutes.
 */
class ConfigFromFileTest {
    @TempDir Path dir;

    static final MaeConfig TINY = MaeConfig.named("tiny");

    /** A real tiny checkpoint (about 100 KB) whose metadata is then changed. */
    Path tinyWith(String key, String value) throws Exception {
        MaeModel m = new MaeModel(TINY, 0);
        Map<String, String> meta = new LinkedHashMap<>(TINY.toMetadata());
        meta.put(key, value);
        Path f = dir.resolve("tiny-" + key + "-" + Math.abs(value.hashCode()) + ".safetensors");
        Safetensors.write(f, meta, Weights.entries(m.params));
        return f;
    }

    static long allocatedBy(Executable call) {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
        try { call.execute(); } catch (Throwable ignored) { /* checked by the caller */ }
        return mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    }

    /** Both loaders refuse the file at once with one line naming the file and the key; little is allocated. */
    void refused(Path f, String... expected) {
        for (Executable load : List.<Executable>of(() -> Weights.load(f, null), () -> Encoders.load(f, null))) {
            long t0 = System.nanoTime();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, load);
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "at once");
            assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            for (String x : expected) assertTrue(e.getMessage().contains(x), "'" + x + "' in: " + e.getMessage());
            assertTrue(allocatedBy(load) < 30_000_000, "refused before allocating a model");
        }
    }

    @Test void the_parameter_shapes_of_a_config_are_the_models_own() {
        for (MaeConfig c : List.of(TINY, MaeConfig.named("fmnist"), new MaeConfig("odd", 12, 4, 3, 24, 0, 3, 16, 3, 2, 2.5f, false))) {
            MaeModel m = new MaeModel(c, 0);
            Map<String, int[]> want = c.parameterShapes(true);
            assertEquals(List.copyOf(m.params.all().keySet()), List.copyOf(want.keySet()), c.name());
            m.params.all().forEach((k, v) -> assertArrayEquals(v.shape(), want.get(k), c.name() + " " + k));
            long all = 0;
            for (var v : m.params.all().values()) all += v.value().numel();
            assertEquals(all, c.parameterCount(true), c.name());
            assertEquals(List.copyOf(Encoders.create(c, 0).params.all().keySet()), List.copyOf(c.parameterShapes(false).keySet()));
        }
    }

    @Test void a_config_that_claims_more_than_the_file_holds_is_refused_naming_the_key() throws Exception {
        refused(tinyWith("depth", "200"), "missing tensor 'blocks.2.norm1.weight'", "(depth 200)");
        refused(tinyWith("depth", "1"), "unexpected tensor 'blocks.1.norm1.weight'", "(depth 1)");
        refused(tinyWith("embed_dim", "8192"), "tensor 'cls_token' has shape [1,1,32], the config needs [1,1,8192] (embed_dim 8192)");
        refused(tinyWith("mlp_ratio", "48"), "'blocks.0.mlp.fc1.weight' has shape [128,32], the config needs [1536,32] (embed_dim 32, mlp_ratio 48.0)");
        refused(tinyWith("img_size", "1400"), "'pos_embed' has shape [1,17,32], the config needs [1,40001,32]", "img_size 1400, patch_size 7");
        refused(tinyWith("in_chans", "3"), "'patch_embed.proj.weight' has shape [32,1,7,7], the config needs [32,3,7,7]", "in_chans 3");
        // The decoder is checked too where it is loaded (Weights.load); an encoder load ignores it.
        Path dec = tinyWith("decoder_depth", "64");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Weights.load(dec, null));
        assertTrue(e.getMessage().contains("missing tensor 'decoder_blocks.1.norm1.weight'") && e.getMessage().contains("(decoder_depth 64)"), e.getMessage());
        assertEquals(32, Encoders.load(dec, null).encoder().dim);
    }

    @Test void sizes_beyond_the_limits_are_refused_before_the_tensors_are_looked_at() throws Exception {
        refused(tinyWith("depth", "100000"), "depth 100000 is outside 0..256");
        refused(tinyWith("embed_dim", "-4"), "embed_dim -4 is outside 1..16384");
        refused(tinyWith("img_size", "100000"), "img_size 100000 is outside 1..4096");
        refused(tinyWith("patch_size", "1"), "the config needs [1,785,32]", "patch_size 1");
        refused(tinyWith("mlp_ratio", "Infinity"), "mlp_ratio Infinity is outside (0, 64]");
        refused(tinyWith("mlp_ratio", "NaN"), "mlp_ratio NaN is outside (0, 64]");
        refused(tinyWith("mlp_ratio", "abc"), "metadata mlp_ratio = 'abc' is not a number");
        refused(tinyWith("num_heads", "64"), "num_heads 64 is outside 1..32");
        refused(tinyWith("depth", "2147483648"), "metadata depth = '2147483648' is not an integer");
        refused(tinyWith("decoder_embed_dim", "16384"), "decoder_embed_dim");    // limits fine, but 16384 x 16384 blocks: the tensors decide
    }

    @Test void limits_bound_the_total_size_and_each_tensor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaeConfig("big", 224, 14, 3, 16384, 256, 16, 16384, 256, 16, 4f, true));
        assertTrue(e.getMessage().contains("parameters, more than the 2147483648 allowed"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MaeConfig("wide", 224, 16, 3, 16384, 1, 16, 512, 1, 16, 64f, true));
        assertTrue(e.getMessage().contains("blocks.0.mlp.fc1.weight would have 17179869184 values, more than a Java array holds (embed_dim, mlp_ratio)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MaeConfig("many", 4096, 4, 3, 32, 1, 1, 32, 1, 1, 4f, true));
        assertTrue(e.getMessage().contains("img_size 4096 / patch_size 4 gives 1048576 patches, more than 65536"), e.getMessage());
        for (MaeConfig c : MaeConfig.NAMED.values()) assertTrue(c.parameterCount(true) < MaeConfig.MAX_PARAMETERS, c.name());
    }

    @Test void a_config_too_large_for_the_heap_is_one_line_not_an_out_of_memory_error() {
        // 1.6 G parameters: inside the limits, far more than half of the test JVM's heap (-Xmx4g).
        MaeConfig c = new MaeConfig("huge", 224, 14, 3, 4096, 8, 16, 512, 1, 16, 4f, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MaeModel(c, 0));
        assertTrue(e.getMessage().startsWith("model: config huge has ") && e.getMessage().contains("more than half of the Java heap"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Encoders.create(c, 0));
    }
}
