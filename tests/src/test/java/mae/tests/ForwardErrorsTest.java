package mae.tests;

import mae.cli.Main;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** bin/mae forward on bad input: one clear error line, exit 1, and no output file. */
class ForwardErrorsTest {
    static final Path CASE = Path.of("src/test/resources/golden/c3_hd8_m75_normpix");
    @TempDir Path tmp;

    String fails(Path weights, Path inputs) {
        Path out = tmp.resolve("out.safetensors");
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.run("forward", "--weights", weights.toString(), "--inputs", inputs.toString(), "--out", out.toString());
        } finally {
            System.setErr(err);
        }
        String msg = buf.toString(StandardCharsets.UTF_8).trim();
        assertEquals(1, rc, msg);
        assertFalse(Files.exists(out), "no output file on error");
        assertEquals(1, msg.lines().count(), "one line: " + msg);
        return msg;
    }

    Path inputsWith(Map<String, String> meta, Map<String, Entry> t) throws Exception {
        Path p = tmp.resolve("in-" + System.nanoTime() + ".safetensors");
        Safetensors.write(p, meta, t);
        return p;
    }

    @Test void bad_inputs_each_give_one_clear_line() throws Exception {
        Path w = CASE.resolve("weights.safetensors"), in = CASE.resolve("inputs.safetensors");
        Safetensors.Contents c = Safetensors.read(in);

        byte[] bytes = Files.readAllBytes(w);
        Path truncated = tmp.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertTrue(fails(truncated, in).contains("truncated.safetensors"));

        Map<String, Entry> noNoise = new LinkedHashMap<>(c.tensors());
        noNoise.remove("noise");
        assertTrue(fails(w, inputsWith(c.metadata(), noNoise)).contains("missing tensor 'noise'"));

        Map<String, Entry> badNoise = new LinkedHashMap<>(c.tensors());
        badNoise.put("noise", Entry.f32(new int[]{3, 8}, new float[24]));
        String m = fails(w, inputsWith(c.metadata(), badNoise));
        assertTrue(m.contains("'noise'") && m.contains("[3,8]") && m.contains("[3,9]"), m);

        Map<String, Entry> badImgs = new LinkedHashMap<>(c.tensors());
        badImgs.put("imgs", Entry.f32(new int[]{3, 3, 10, 10}, new float[900]));
        m = fails(w, inputsWith(c.metadata(), badImgs));
        assertTrue(m.contains("'imgs'") && m.contains("[3,3,10,10]") && m.contains("[3,3,12,12]"), m);

        assertTrue(fails(w, inputsWith(Map.of("mask_ratio", "1.0"), c.tensors())).contains("mask_ratio 1.0 is outside [0, 1)"));
        assertTrue(fails(w, inputsWith(Map.of("mask_ratio", "-0.1"), c.tensors())).contains("outside [0, 1)"));

        Safetensors.Contents wc = Safetensors.read(w);
        Map<String, String> meta = new LinkedHashMap<>(wc.metadata());
        meta.put("img_size", "13");
        Path odd = tmp.resolve("odd.safetensors");
        Safetensors.write(odd, meta, wc.tensors());
        assertTrue(fails(odd, in).contains("not divisible by patch size"));

        Map<String, Entry> extra = new LinkedHashMap<>(wc.tensors());
        extra.put("blocks.9.attn.qkv.weight", Entry.f32(new int[]{1}, new float[1]));
        Path ex = tmp.resolve("extra.safetensors");
        Safetensors.write(ex, wc.metadata(), extra);
        assertTrue(fails(ex, in).contains("unexpected tensor 'blocks.9.attn.qkv.weight'"));

        Map<String, Entry> mis = new LinkedHashMap<>(wc.tensors());
        mis.put("norm.weight", Entry.f32(new int[]{5}, new float[5]));
        Path ms = tmp.resolve("mis.safetensors");
        Safetensors.write(ms, wc.metadata(), mis);
        m = fails(ms, in);
        assertTrue(m.contains("'norm.weight'") && m.contains("[5]") && m.contains("[24]"), m);

        Map<String, Entry> enc = new LinkedHashMap<>();
        wc.tensors().forEach((k, v) -> { if (!k.startsWith("decoder") && !k.equals("mask_token")) enc.put(k, v); });
        Path eo = tmp.resolve("encoder-only.safetensors");
        Safetensors.write(eo, wc.metadata(), enc);
        assertTrue(fails(eo, in).contains("encoder only"));
    }

    @Test void empty_and_non_finite_inputs_or_weights_are_refused() throws Exception {
        Path w = CASE.resolve("weights.safetensors"), in = CASE.resolve("inputs.safetensors");
        Safetensors.Contents c = Safetensors.read(in);

        Map<String, Entry> none = new LinkedHashMap<>();
        none.put("imgs", Entry.f32(new int[]{0, 3, 12, 12}, new float[0]));
        none.put("noise", Entry.f32(new int[]{0, 9}, new float[0]));
        String m = fails(w, inputsWith(c.metadata(), none));                   // was: a NaN loss and exit 0
        assertTrue(m.contains("tensor 'imgs' holds no images (shape [0,3,12,12])"), m);

        for (String name : new String[]{"imgs", "noise"})
            for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY}) {
                Map<String, Entry> t = new LinkedHashMap<>(c.tensors());
                float[] x = t.get(name).floats().clone();
                x[5] = bad;
                t.put(name, Entry.f32(t.get(name).shape(), x));
                m = fails(w, inputsWith(c.metadata(), t));
                assertTrue(m.contains("tensor '" + name + "' holds " + bad + " at index 5 (expected finite numbers)"), m);
            }

        Safetensors.Contents wc = Safetensors.read(w);
        Map<String, Entry> nan = new LinkedHashMap<>(wc.tensors());
        float[] q = nan.get("decoder_pred.weight").floats().clone();
        q[0] = Float.NaN;
        nan.put("decoder_pred.weight", Entry.f32(nan.get("decoder_pred.weight").shape(), q));
        Path nw = tmp.resolve("nan-weights.safetensors");
        Safetensors.write(nw, wc.metadata(), nan);
        m = fails(nw, in);
        assertTrue(m.contains("nan-weights.safetensors: tensor 'decoder_pred.weight' holds NaN at index 0 (weights must be finite numbers)"), m);

        Map<String, String> keeps0 = new LinkedHashMap<>(c.metadata());
        keeps0.put("mask_ratio", "0.95");                                      // 9 patches: none kept
        m = fails(w, inputsWith(keeps0, c.tensors()));
        assertTrue(m.contains("mask_ratio 0.95 keeps no patch of the 9"), m);
    }
}
