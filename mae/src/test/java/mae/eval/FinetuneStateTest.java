package mae.eval;

import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.vit.Params;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The fine-tuning state folder: a round trip, and errors that name the file for states that are not this run's or not whole. */
class FinetuneStateTest {
    static final Map<String, String> ID = Map.of("checkpoint", "/runs/a/weights.safetensors", "blr", "0.004");

    /** A small loop state: one encoder and one head parameter, AdamW after one step, generators, an image order. */
    static FinetuneState.Snapshot snapshot(long seed) {
        Rng r = new Rng(seed);
        Params enc = new Params(), head = new Params();
        enc.add("blocks.0.w", Tensor.randn(r, 3, 4));
        head.add("head.weight", Tensor.randn(r, 2, 4));
        LinkedHashMap<String, mae.autograd.Var> all = new LinkedHashMap<>(enc.all());
        all.putAll(head.all());
        for (var v : all.values()) v.backward(Tensor.randn(r, v.shape()));          // a leaf: its grad is the given one
        AdamW opt = new AdamW(all, 0.9f, 0.999f, 1e-8f, 0.05f);
        opt.step(1e-3f);
        return new FinetuneState.Snapshot(FinetuneState.PRETRAINED, 2, 12, enc, head, opt, new Rng(seed + 1), new Rng(seed + 2), new int[]{2, 0, 3, 1},
                0.5, 0.25, new double[]{0.75, 0.8125});
    }

    /** What a resumed loop does: load, then restore into its fresh objects. */
    static void restore(FinetuneState st, FinetuneState.Snapshot into) throws Exception {
        st.load();
        st.restore(into.enc(), into.head(), into.opt(), into.rng(), into.drop(), into.order());
    }

    @Test void a_saved_state_comes_back_whole(@TempDir Path tmp) throws Exception {
        FinetuneState.Snapshot a = snapshot(1), b = snapshot(7);
        FinetuneState st = new FinetuneState(tmp, ID);
        assertFalse(st.exists());
        st.baselineDone(0.625);
        st.save(a);
        FinetuneState.Saved s = new FinetuneState(tmp, ID).load();
        assertEquals(FinetuneState.PRETRAINED, s.phase());
        assertEquals(2, s.epoch());
        assertEquals(12, s.step());
        assertEquals(0.625, s.baselineAccuracy());
        assertArrayEquals(new double[]{0.75, 0.8125}, s.curve());
        restore(new FinetuneState(tmp, ID), b);
        assertArrayEquals(a.enc().get("blocks.0.w").value().toArray(), b.enc().get("blocks.0.w").value().toArray());
        assertArrayEquals(a.head().get("head.weight").value().toArray(), b.head().get("head.weight").value().toArray());
        assertArrayEquals(a.order(), b.order());
        assertArrayEquals(a.rng().state(), b.rng().state());
        assertArrayEquals(a.drop().state(), b.drop().state());
        assertEquals(a.opt().steps(), b.opt().steps());
        assertEquals(a.opt().state().keySet(), b.opt().state().keySet());
        for (String k : a.opt().state().keySet()) assertArrayEquals(a.opt().state().get(k).floats(), b.opt().state().get(k).floats(), k);
        st.delete();
        assertFalse(st.exists());
    }

    @Test void another_runs_state_is_refused_naming_what_differs(@TempDir Path tmp) throws Exception {
        new FinetuneState(tmp, ID).save(snapshot(1));
        Map<String, String> other = new LinkedHashMap<>(ID);
        other.put("blr", "0.001");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FinetuneState(tmp, other).load());
        assertTrue(e.getMessage().startsWith(tmp.resolve("finetune-state/state.json") + ": the saved fine-tuning is another run's (blr \"0.004\" there, \"0.001\" now)"), e.getMessage());
    }

    @Test void an_order_that_is_not_a_permutation_is_refused(@TempDir Path tmp) throws Exception {
        FinetuneState st = new FinetuneState(tmp, ID);
        st.save(snapshot(1));
        Path ord = st.dir().resolve("order.safetensors");
        Safetensors.write(ord, Map.of(), Map.of("order", Safetensors.Entry.i64(new int[]{4}, new long[]{2, 0, 2, 1})));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> restore(st, snapshot(3)));
        assertEquals(ord + ": 'order' is not a permutation of 0..3 (index 2 holds 2)", e.getMessage());
    }

    @Test void a_generator_of_zeros_is_refused(@TempDir Path tmp) throws Exception {
        FinetuneState st = new FinetuneState(tmp, ID);
        st.save(snapshot(1));
        Path json = st.dir().resolve("state.json");
        String s = Files.readString(json);
        int i = s.indexOf("\"drop\"");
        Files.writeString(json, s.substring(0, i) + "\"drop\": [0, 0, 0, 0]" + s.substring(s.indexOf(']', i) + 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> restore(st, snapshot(3)));
        assertEquals(json + ": \"drop\" is not a generator state (4 words, not all 0)", e.getMessage());
    }

    /** A kill between the two renames leaves the previous state as finetune-state.old: it is found again. */
    @Test void a_kill_between_the_renames_keeps_the_previous_state(@TempDir Path tmp) throws Exception {
        FinetuneState st = new FinetuneState(tmp, ID);
        st.save(snapshot(1));
        Files.move(st.dir(), tmp.resolve("finetune-state.old"));
        assertTrue(new FinetuneState(tmp, ID).exists());
        assertEquals(12, new FinetuneState(tmp, ID).load().step());
    }
}
