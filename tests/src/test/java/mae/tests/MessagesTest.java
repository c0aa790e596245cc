package mae.tests;

import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.Weights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every error names the file, tensor, key or flag and what was expected: no "For input string", "Is a directory",
 * bare paths or index errors; always one line, exit 1, within seconds.
 */
class MessagesTest {
    static String savedHome;

    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    @TempDir Path tmp;

    static String fails(String... args) {
        long t0 = System.nanoTime();
        Object[] r = PretrainTest.run(List.of(args));
        String err = ((String) r[1]).trim();
        assertEquals(1, r[0], String.join(" ", args) + ": " + err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("error: "), err);
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "within seconds");
        for (String vague : List.of("For input string", "Cannot parse", "Is a directory", "out of bounds for length"))
            assertFalse(err.contains(vague), err);
        return err;
    }

    /** Tiny weights (full model) with metadata changed by meta. */
    Path tinyWeights(String name, Map<String, String> changes) throws Exception {
        MaeConfig cfg = MaeConfig.named("tiny");
        Map<String, String> meta = new LinkedHashMap<>(cfg.toMetadata());
        meta.put("norm_mean", "0.3");
        meta.put("norm_std", "0.35");
        meta.putAll(changes);
        Path f = tmp.resolve(name);
        Weights.save(f, new MaeModel(cfg, 0), meta);
        return f;
    }

    @Test void files_that_are_folders_or_missing_name_themselves() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("a-folder"));
        String in = tmp.resolve("in.safetensors").toString();
        assertEndsWith(fails("forward", "--weights", dir.toString(), "--inputs", in, "--out", tmp.resolve("o").toString()), dir + ": is a directory, not a checkpoint file (.safetensors, .pth or .bin)");
        assertEndsWith(fails("forward", "--weights", tmp.resolve("gone.safetensors").toString(), "--inputs", in, "--out", tmp.resolve("o").toString()), "gone.safetensors: no such file");
        Path w = tinyWeights("w.safetensors", Map.of());
        assertEndsWith(fails("reconstruct", "--checkpoint", w.toString(), "--image", dir.toString()), dir + " is a directory, not an image file");
        assertContains(fails("probe", "--checkpoint", tmp.resolve("nothing-here").toString()), "nothing-here does not exist");
        Path run = Files.createDirectories(tmp.resolve("run/checkpoints/step-0000002"));
        Files.writeString(tmp.resolve("run/checkpoints/latest"), "step-0000002\n");
        Files.createDirectories(run.resolve("state.json"));
        Files.writeString(tmp.resolve("run/run.json"), "{}");
        assertContains(fails("pretrain", "--resume", tmp.resolve("run").toString()), "run.json: cannot read the run options (no \"config\")");
    }

    @Test void bad_metadata_values_name_the_file_and_the_key() throws Exception {
        Path img = tmp.resolve("img.png");
        mae.viz.Png.write(img, new float[28 * 28], 1, 28, 28);
        Path abc = tinyWeights("abc.safetensors", Map.of("norm_mean", "abc"));
        assertEndsWith(fails("reconstruct", "--checkpoint", abc.toString(), "--image", img.toString()),      // was: For input string: "abc"
                "abc.safetensors: metadata norm_mean = 'abc' is not a comma-separated list of numbers");
        Path three = tinyWeights("three.safetensors", Map.of("norm_mean", "0.1,0.2,0.3", "norm_std", "1,1,1"));
        assertEndsWith(fails("reconstruct", "--checkpoint", three.toString(), "--image", img.toString()), "three.safetensors: metadata norm_mean has 3 and norm_std 3 values, but the model has 1 input channel (in_chans)");
        Path zero = tinyWeights("zero.safetensors", Map.of("norm_std", "0"));
        assertContains(fails("reconstruct", "--checkpoint", zero.toString(), "--image", img.toString()), "zero.safetensors: metadata norm_mean / norm_std: channel 0 has mean 0.3, std 0.0");
        Path half = tinyWeights("half.safetensors", Map.of());
        mae.tensor.io.Safetensors.Contents c = mae.tensor.io.Safetensors.read(half);
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.remove("norm_std");
        mae.tensor.io.Safetensors.write(half, meta, c.tensors());
        assertEndsWith(fails("reconstruct", "--checkpoint", half.toString(), "--image", img.toString()), "half.safetensors: metadata has norm_mean but no norm_std");
        Path depth = tinyWeights("depth.safetensors", Map.of("depth", "two"));
        assertEndsWith(fails("reconstruct", "--checkpoint", depth.toString(), "--image", img.toString()), "depth.safetensors: metadata depth = 'two' is not an integer");
    }

    @Test void names_with_line_breaks_still_give_one_line() throws Exception {
        Path odd = tinyWeights("odd.safetensors", Map.of("config_name", "x\ny", "embed_dim", "-1"));   // was: two lines
        String err = fails("probe", "--checkpoint", odd.toString(), "--data", PretrainTest.DATA);
        assertTrue(err.contains("odd.safetensors: metadata: config x\\ny: embed_dim -1 is outside 1..16384"), err);
        Path odd2 = tinyWeights("odd2.safetensors", Map.of("config_name", "a\rb\u0007", "depth", "7"));
        Path img = tmp.resolve("img.png");
        mae.viz.Png.write(img, new float[28 * 28], 1, 28, 28);
        err = fails("reconstruct", "--checkpoint", odd2.toString(), "--image", img.toString());
        assertTrue(err.contains("odd2.safetensors: missing tensor 'blocks.2.norm1.weight'"), err);
    }

    @Test void crafted_configs_fail_at_once_in_every_command_that_loads_weights() throws Exception {
        Path big = tinyWeights("big.safetensors", Map.of("embed_dim", "4096", "num_heads", "16"));   // 400 M parameters: was minutes of allocation, or OutOfMemoryError
        Path in = tmp.resolve("in.safetensors");
        mae.tensor.io.Safetensors.write(in, Map.of("mask_ratio", "0.75"), Map.of(
                "imgs", mae.tensor.io.Safetensors.Entry.f32(new int[]{1, 1, 28, 28}, new float[784]),
                "noise", mae.tensor.io.Safetensors.Entry.f32(new int[]{1, 16}, new float[16])));
        Path img = tmp.resolve("img.png");
        mae.viz.Png.write(img, new float[28 * 28], 1, 28, 28);
        List<String[]> commands = new ArrayList<>();
        commands.add(new String[]{"forward", "--weights", big.toString(), "--inputs", in.toString(), "--out", tmp.resolve("o").toString()});
        commands.add(new String[]{"probe", "--checkpoint", big.toString(), "--data", PretrainTest.DATA});
        commands.add(new String[]{"finetune", "--checkpoint", big.toString(), "--data", PretrainTest.DATA});
        commands.add(new String[]{"reconstruct", "--checkpoint", big.toString(), "--image", img.toString()});
        commands.add(new String[]{"explain", "--checkpoint", big.toString(), "--image", img.toString(), "--out", tmp.resolve("ex").toString()});
        for (String[] c : commands) {
            String err = fails(c);
            assertTrue(err.contains("big.safetensors: tensor 'cls_token' has shape [1,1,32], the config needs [1,1,4096] (embed_dim 4096)"), c[0] + ": " + err);
        }
        assertFalse(Files.exists(tmp.resolve("o")) || Files.exists(tmp.resolve("ex/index.html")));
    }

    static void assertEndsWith(String s, String suffix) { assertTrue(s.endsWith(suffix), "expected to end with: " + suffix + "\ngot: " + s); }

    static void assertContains(String s, String part) { assertTrue(s.contains(part), "expected to contain: " + part + "\ngot: " + s); }
}
