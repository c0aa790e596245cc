package mae.optim;

import mae.autograd.Var;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * AdamW against an independent reference: PyTorch's torch.optim.AdamW with MAE's parameter groups, over four
 * steps at changing learning rates (tests/reference/make_adamw_fixture.py wrote adamw_torch.safetensors), and the
 * decay groups themselves.
 */
class AdamWTest {
    static Safetensors.Contents fixture() throws Exception {
        return Safetensors.read(Path.of(AdamWTest.class.getResource("adamw_torch.safetensors").toURI()));
    }

    static Tensor tensor(Entry e) { return Tensor.of(e.floats().clone(), e.shape()); }

    /**
     * Within a few float32 roundings: 2e-6 relative, plus 1e-7 of the tensor's largest magnitude for values that
     * cancelled down to near 0 (PyTorch orders some operations differently, e.g. its addcmul for the second moment;
     * the largest differences seen are 3e-7 relative and 2e-9 absolute). A missing bias correction or a decay in the
     * wrong group moves a parameter by 1e-4 or more.
     */
    static void assertNear(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) {
            double tol = 2e-6 * Math.max(Math.abs(want[i]), Math.abs(got[i])) + 1e-7 * scale;
            assertTrue(Math.abs(want[i] - got[i]) <= tol, what + "[" + i + "]: PyTorch " + want[i] + ", ours " + got[i]);
        }
    }

    @Test void four_steps_match_pytorch_adamw_with_maes_parameter_groups() throws Exception {
        Safetensors.Contents c = fixture();
        Map<String, String> meta = c.metadata();
        Map<String, Entry> t = c.tensors();
        String[] names = meta.get("params").split(",");
        float[] lrs = new float[Integer.parseInt(meta.get("steps"))];
        String[] lr = meta.get("lrs").split(",");
        for (int i = 0; i < lrs.length; i++) lrs[i] = Float.parseFloat(lr[i]);

        LinkedHashMap<String, Var> params = new LinkedHashMap<>();
        for (String n : names) params.put(n, Var.param(tensor(t.get("init." + n))).named(n));
        AdamW opt = new AdamW(params, Float.parseFloat(meta.get("beta1")), Float.parseFloat(meta.get("beta2")),
                Float.parseFloat(meta.get("eps")), Float.parseFloat(meta.get("weight_decay")));
        for (int step = 1; step <= lrs.length; step++) {
            for (String n : names) params.get(n).backward(tensor(t.get("grad." + step + "." + n)));
            opt.step(lrs[step - 1]);
            assertEquals(step, opt.steps());
            Map<String, Entry> state = opt.state();
            for (String n : names) {
                assertNear("step " + step + " " + n, t.get("param." + step + "." + n).floats(), params.get(n).value().toArray());
                assertNear("step " + step + " exp_avg." + n, t.get("exp_avg." + step + "." + n).floats(), state.get("exp_avg." + n).floats());
                assertNear("step " + step + " exp_avg_sq." + n, t.get("exp_avg_sq." + step + "." + n).floats(), state.get("exp_avg_sq." + n).floats());
            }
            for (Var p : params.values()) p.zeroGrad();
        }
    }

    @Test void the_decay_group_is_the_one_pytorch_was_given() throws Exception {
        Safetensors.Contents c = fixture();
        Set<String> decay = Set.of(c.metadata().get("decay").split(","));
        for (String n : c.metadata().get("params").split(",")) {
            Var p = Var.param(tensor(c.tensors().get("init." + n)));
            assertEquals(decay.contains(n), AdamW.decays(n, p), n);
        }
    }

    /** The MAE model's own parameters: biases and norm weights are the whole no-decay group; tokens and weights decay. */
    @Test void maes_biases_and_norm_weights_do_not_decay_and_everything_else_does() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 0);
        Set<String> noDecay = new TreeSet<>(), decay = new TreeSet<>();
        m.params.trainable().forEach((n, p) -> (AdamW.decays(n, p) ? decay : noDecay).add(n));
        for (String n : noDecay)
            assertTrue(n.endsWith(".bias") || n.matches("(.*\\.)?norm\\d?\\.weight|decoder_norm\\.weight"), "no decay on " + n);
        for (String n : decay) assertTrue(n.endsWith(".weight") || n.endsWith("_token"), "decay on " + n);
        for (String n : List.of("cls_token", "mask_token", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "decoder_pred.weight"))
            assertTrue(decay.contains(n), n + " decays");
        for (String n : List.of("patch_embed.proj.bias", "blocks.0.norm1.weight", "blocks.0.norm1.bias", "norm.weight", "decoder_norm.weight", "decoder_pred.bias"))
            assertTrue(noDecay.contains(n), n + " does not decay");
        assertFalse(m.params.trainable().containsKey("pos_embed"), "the fixed position embedding is not optimized");
    }

    /**
     * With a zero gradient the moments stay 0 and the Adam step is 0 / (0 + eps) = 0: all that moves a parameter is
     * its decay, p * (1 - lr wd) for a matrix or a token, nothing for a bias or a 1-D weight.
     */
    @Test void with_zero_gradients_only_the_decaying_parameters_shrink_by_lr_times_wd() {
        float[] w = {1.5f, -2f, 0.25f, 3f}, b = {1.5f, -2f}, g = {0.5f, 4f};
        LinkedHashMap<String, Var> params = new LinkedHashMap<>();
        params.put("fc.weight", Var.param(Tensor.of(w.clone(), 2, 2)));
        params.put("fc.bias", Var.param(Tensor.of(b.clone(), 2)));
        params.put("norm.weight", Var.param(Tensor.of(g.clone(), 2)));
        params.put("mask_token", Var.param(Tensor.of(b.clone(), 1, 1, 2)));
        AdamW opt = new AdamW(params, 0.9f, 0.95f, 1e-8f, 0.25f);
        for (Var p : params.values()) p.backward(Tensor.zeros(p.shape()));
        opt.step(0.4f);
        float keep = 1 - 0.4f * 0.25f;
        float[] wd = new float[4], bd = new float[2];
        for (int i = 0; i < 4; i++) wd[i] = w[i] * keep;
        for (int i = 0; i < 2; i++) bd[i] = b[i] * keep;
        assertArrayEquals(wd, params.get("fc.weight").value().toArray(), "a weight matrix decays");
        assertArrayEquals(bd, params.get("mask_token").value().toArray(), "the 3-D mask token decays");
        assertArrayEquals(b, params.get("fc.bias").value().toArray(), "a bias does not");
        assertArrayEquals(g, params.get("norm.weight").value().toArray(), "a 1-D norm weight does not");
        assertTrue(Arrays.equals(new float[4], opt.state().get("exp_avg.fc.weight").floats()));
    }

    /** Parameters without a gradient are skipped, and a per-parameter lr scale multiplies the step. */
    @Test void parameters_without_a_gradient_stay_and_lr_scales_apply_per_name() {
        LinkedHashMap<String, Var> params = new LinkedHashMap<>();
        params.put("a.weight", Var.param(Tensor.of(new float[]{1, 1}, 1, 2)));
        params.put("b.weight", Var.param(Tensor.of(new float[]{1, 1}, 1, 2)));
        params.put("c.weight", Var.param(Tensor.of(new float[]{1, 1}, 1, 2)));
        AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0f);
        params.get("a.weight").backward(Tensor.of(new float[]{1, -1}, 1, 2));
        params.get("b.weight").backward(Tensor.of(new float[]{1, -1}, 1, 2));
        opt.step(0.1f, Map.of("b.weight", 0.5f));
        // step 1: m_hat = g, v_hat = g^2, so the step is lr * sign(g) (up to eps)
        assertArrayEquals(new float[]{0.9f, 1.1f}, params.get("a.weight").value().toArray(), 1e-6f);
        assertArrayEquals(new float[]{0.95f, 1.05f}, params.get("b.weight").value().toArray(), 1e-6f);
        assertArrayEquals(new float[]{1, 1}, params.get("c.weight").value().toArray(), "no gradient: untouched");
    }
}
