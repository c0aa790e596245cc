package mae.optim;

import mae.autograd.Var;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The optimizer's moments through a checkpoint: restored exactly, each into its own moment; anything wrong refused, naming the tensor. */
class AdamWStateTest {
    static AdamW opt() {
        LinkedHashMap<String, Var> p = new LinkedHashMap<>();
        p.put("w", Var.param(Tensor.of(new float[]{1, 2, 3, 4}, 2, 2)));
        p.put("b", Var.param(Tensor.of(new float[]{5, 6}, 2)));
        return new AdamW(p, 0.9f, 0.95f, 1e-8f, 0.05f);
    }

    static LinkedHashMap<String, Entry> state() {
        LinkedHashMap<String, Entry> s = new LinkedHashMap<>();
        s.put("exp_avg.w", Entry.f32(new int[]{2, 2}, new float[]{-0.1f, 0.2f, -0.3f, 0.4f}));
        s.put("exp_avg.b", Entry.f32(new int[]{2}, new float[]{-1, 1}));
        s.put("exp_avg_sq.w", Entry.f32(new int[]{2, 2}, new float[]{0, 0.02f, 0.03f, 0.04f}));
        s.put("exp_avg_sq.b", Entry.f32(new int[]{2}, new float[]{0.5f, 0}));
        return s;
    }

    static void refused(Map<String, Entry> s, long steps, String msg) {
        AdamW o = opt();
        String m = assertThrows(IllegalArgumentException.class, () -> o.load(s, steps, "ck.safetensors")).getMessage();
        assertEquals(msg, m);
        assertEquals(0, o.steps(), "nothing changed");
        for (Entry e : o.state().values()) for (float f : e.floats()) assertEquals(0f, f, "nothing changed");
    }

    @Test void moments_and_steps_round_trip_each_into_its_own_moment() {
        AdamW o = opt();
        o.load(state(), 7, "ck.safetensors");
        assertEquals(7, o.steps());
        LinkedHashMap<String, Entry> back = o.state();
        assertEquals(state().keySet(), back.keySet());
        state().forEach((k, e) -> assertArrayEquals(e.floats(), back.get(k).floats(), k));
        AdamW z = opt();
        z.load(state(), 0, "ck.safetensors");
        assertEquals(0, z.steps(), "step 0 is a valid count");
    }

    @Test void anything_wrong_is_refused_before_anything_changes() {
        refused(state(), -1, "ck.safetensors: optimizer step count -1 is negative");
        LinkedHashMap<String, Entry> s = state();
        s.remove("exp_avg_sq.b");
        refused(s, 3, "ck.safetensors: missing optimizer tensor 'exp_avg_sq.b'");
        s = state();
        s.remove("exp_avg.w");
        refused(s, 3, "ck.safetensors: missing optimizer tensor 'exp_avg.w'");
        s = state();
        s.put("exp_avg.b", Entry.i64(new int[]{2}, new long[]{1, 2}));
        refused(s, 3, "ck.safetensors: optimizer tensor 'exp_avg.b' is I64, expected a float type");
        s = state();
        s.put("exp_avg_sq.w", Entry.f32(new int[]{4}, new float[4]));
        refused(s, 3, "ck.safetensors: optimizer tensor 'exp_avg_sq.w' has shape [4], expected [2, 2]");
        s = state();
        s.put("exp_avg.b", Entry.f32(new int[]{2}, new float[]{0, Float.NaN}));
        refused(s, 3, "ck.safetensors: optimizer tensor 'exp_avg.b' holds NaN at index 1 (expected finite values)");
        s = state();
        s.put("exp_avg.w", Entry.f32(new int[]{2, 2}, new float[]{0, 0, Float.POSITIVE_INFINITY, 0}));
        refused(s, 3, "ck.safetensors: optimizer tensor 'exp_avg.w' holds Infinity at index 2 (expected finite values)");
        s = state();
        s.put("exp_avg_sq.b", Entry.f32(new int[]{2}, new float[]{0, -1e-30f}));
        refused(s, 3, "ck.safetensors: optimizer tensor 'exp_avg_sq.b' holds -1.0E-30 at index 1 (expected finite, non-negative values)");
    }
}
