package mae.autograd;

import mae.tensor.Index;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The tape's and the ops' refusals, each naming what is wrong; a gradient that reaches a leaf twice adds up; the
 * gradient check's own arithmetic (snapping, the error it reports, its tolerance); the trace's text.
 */
class AutogradContractsTest {
    static <T extends Throwable> void refused(Class<T> type, Executable e, String... words) {
        T x = assertThrows(type, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    static Tensor seq(int... shape) {
        float[] d = new float[mae.tensor.Shapes.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = 0.25f * i - 1;
        return Tensor.of(d, shape);
    }

    @Test void leaves_and_backward_refuse_what_does_not_fit() {
        Var p = Var.param(seq(2, 3)).named("w");
        assertEquals("w", p.name());
        assertTrue(p.toString().contains("w") && p.toString().contains("[2,3]"), p.toString());
        assertFalse(Var.param(seq(2)).toString().isEmpty());
        refused(IllegalArgumentException.class, () -> p.setValue(seq(3, 2)), "setValue of w", "[3,2]", "[2,3]");
        refused(IllegalArgumentException.class, () -> Var.param(seq(2)).setValue(seq(3)), "setValue:", "[3]");
        Var y = F.mul(p, p);
        refused(IllegalStateException.class, () -> y.setValue(seq(2, 3)), "only leaves");
        refused(IllegalStateException.class, y::backward, "not a scalar");
        refused(IllegalArgumentException.class, () -> y.backward(seq(3, 2)), "gradient shape [3,2]", "[2,3]");
        refused(IllegalStateException.class, () -> Var.constant(seq(1)).backward(), "does not require grad");
        p.setValue(seq(2, 3).mul(2f));
        assertEquals(-2f, p.value().get(0, 0), "a leaf's value replaced");
    }

    @Test void a_leaf_reached_twice_gets_the_sum_and_keeps_its_buffer_across_zero_grad() {
        Var x = Var.param(seq(3));
        F.sum(F.add(F.mul(x, x), x)).backward();                        // d/dx (x^2 + x) = 2x + 1
        assertArrayEquals(new float[]{-1, -0.5f, 0}, x.grad().toArray());
        F.sum(x).backward();                                             // accumulates
        assertArrayEquals(new float[]{0, 0.5f, 1}, x.grad().toArray());
        Tensor buffer = x.grad();
        x.zeroGrad();
        assertNull(x.grad());
        F.sum(F.mul(x, Var.constant(Tensor.full(mae.tensor.Device.CPU, 3f, 3)))).backward();
        assertSame(buffer, x.grad(), "the buffer is reused");
        assertArrayEquals(new float[]{3, 3, 3}, x.grad().toArray());
        // a view as the tape's pending gradient: added into a copy, not into the view's storage
        Var v = Var.param(seq(2, 2));
        Var t = F.transpose(v, 0, 1);
        F.sum(F.add(t, t)).backward();
        assertArrayEquals(new float[]{2, 2, 2, 2}, v.grad().toArray());
        Var c = Var.constant(seq(2));
        F.sum(F.mul(Var.param(seq(2)), c)).backward();
        assertNull(c.grad(), "constants get no gradient");
    }

    @Test void ops_refuse_mismatched_shapes() {
        Var x = Var.param(seq(2, 3)), w = Var.param(seq(4, 3));
        refused(IllegalArgumentException.class, () -> F.linear(x, w, Var.param(seq(3))), "bias");
        refused(IllegalArgumentException.class, () -> F.linear(x, w, Var.param(seq(1, 4))), "bias");
        assertArrayEquals(new int[]{2, 4}, F.linear(x, w, Var.param(seq(4))).shape());
        assertArrayEquals(new int[]{2, 4}, F.linear(x, w, null).shape());
        refused(IllegalArgumentException.class, () -> F.mseRows(x, Var.constant(seq(3, 2))), "mseRows");
        refused(IllegalArgumentException.class, () -> F.maskedMean(x, seq(3, 2)), "maskedMean");
        refused(IllegalArgumentException.class, () -> F.maskedMean(x, Tensor.zeros(2, 3)), "selects nothing");
        Tensor img = seq(1, 2, 4, 4);
        refused(IllegalArgumentException.class, () -> F.patchEmbed(Var.param(img), Var.param(seq(3, 2, 2, 3)), null), "patchEmbed");
        refused(IllegalArgumentException.class, () -> F.patchEmbed(Var.param(img), Var.param(seq(3, 1, 2, 2)), null), "patchEmbed");
        refused(IllegalArgumentException.class, () -> F.patchEmbed(Var.param(seq(1, 2, 4)), Var.param(seq(3, 2, 2, 2)), null), "patchEmbed");
        refused(IllegalArgumentException.class, () -> F.patchEmbed(Var.param(seq(1, 2, 5, 4)), Var.param(seq(3, 2, 2, 2)), null), "patchEmbed");
        refused(IllegalArgumentException.class, () -> F.patchEmbed(Var.param(seq(1, 2, 4, 5)), Var.param(seq(3, 2, 2, 2)), null), "patchEmbed");
        assertArrayEquals(new int[]{1, 4, 3}, F.patchEmbed(Var.param(img), Var.param(seq(3, 2, 2, 2)), null).shape());
        Var logits = Var.param(seq(2, 3));
        refused(IllegalArgumentException.class, () -> F.crossEntropy(logits, new int[]{0}, 0f), "crossEntropy");
        refused(IllegalArgumentException.class, () -> F.crossEntropy(Var.param(seq(2, 3, 1)), new int[]{0, 1}, 0f), "crossEntropy");
        refused(IndexOutOfBoundsException.class, () -> F.crossEntropy(logits, new int[]{0, 3}, 0f), "label 3 of row 1", "[0, 3)");
        refused(IndexOutOfBoundsException.class, () -> F.crossEntropy(logits, new int[]{-1, 2}, 0f), "label -1 of row 0");
        assertEquals(0, F.crossEntropy(logits, new int[]{0, 2}, 0f).dim());
    }

    @Test void reductions_keep_or_drop_dims_and_gradients_sum_back_to_broadcast_shapes() {
        Var x = Var.param(seq(2, 3));
        assertArrayEquals(new int[]{2}, F.max(x, 1, false).shape());
        assertArrayEquals(new int[]{2, 1}, F.max(x, 1, true).shape());
        assertArrayEquals(new int[]{1, 1}, F.sum(x, null, true).shape());
        assertArrayEquals(new int[]{1, 1}, F.sum(x, new int[0], true).shape());
        assertArrayEquals(new int[]{2, 1}, F.mean(x, new int[]{1}, true).shape());
        assertArrayEquals(new float[]{6, 6}, F.sumTo(Tensor.full(mae.tensor.Device.CPU, 2f, 2, 3), new int[]{2, 1}).toArray());
        assertArrayEquals(new float[]{4, 4, 4}, F.sumTo(Tensor.full(mae.tensor.Device.CPU, 2f, 2, 3), new int[]{3}).toArray());
        assertArrayEquals(new float[]{12}, F.sumTo(Tensor.full(mae.tensor.Device.CPU, 2f, 2, 3), new int[]{1, 1}).toArray());
        Tensor same = seq(2, 3);
        assertSame(same, F.sumTo(same, new int[]{2, 3}), "nothing to sum: the same tensor");
        Var b = Var.param(seq(3));
        F.sum(F.add(x, b)).backward();
        assertArrayEquals(new float[]{2, 2, 2}, b.grad().toArray(), "a broadcast operand's gradient sums over the broadcast dims");
        Var g = Var.param(seq(2, 3));
        F.sum(F.gather(g, 1, new Index(new int[]{2, 2, 0, 0}, 2, 2))).backward();
        assertArrayEquals(new float[]{0, 0, 2, 2, 0, 0}, g.grad().toArray());
    }

    @Test void the_gradient_check_reports_its_worst_error_and_its_inputs_stay_exact() {
        Tensor s = GradCheck.snap(Tensor.of(new float[]{0.1f, -15.99f, 1f / 4096 + 1e-6f}, 3));
        assertArrayEquals(new float[]{410f / 4096, Math.round(-15.99f * 4096f) / 4096f, 1f / 4096}, s.toArray());
        refused(IllegalArgumentException.class, () -> GradCheck.snap(Tensor.of(new float[]{16f}, 1)), "too large");
        refused(IllegalArgumentException.class, () -> GradCheck.snap(Tensor.of(new float[]{-16f}, 1)), "too large");
        GradCheck.Result good = GradCheck.check(v -> F.mul(v[0], v[0]), seq(4));
        assertTrue(good.ok(1e-6), good.toString());
        assertTrue(good.maxError() < 1e-6);
        // a wrong rule: y = x * x with the gradient of x (not 2x): error near 1/2 relative, found at some element
        GradCheck.Result bad = GradCheck.check(v -> F.mul(v[0], v[0].detach()), Tensor.of(new float[]{0.5f, -1f, 1.5f}, 3));
        assertFalse(bad.ok(0.4));
        assertTrue(bad.ok(bad.maxError()), "the error itself is within a tolerance equal to it");
        assertEquals(0.5, bad.maxError(), 1e-3);
        assertEquals(0, bad.input());
        assertTrue(bad.element() >= 0 && bad.element() < 3);
        assertEquals(bad.numeric() / 2, bad.analytic(), 1e-4, "analytic x, numeric 2x");
        assertTrue(bad.toString().startsWith("max error 0.500 at input 0 element " + bad.element()), bad.toString());
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.assertOk("square", v -> F.mul(v[0], v[0].detach()), seq(3)));
        assertTrue(e.getMessage().contains("gradient check of square on [3] failed: max error"), e.getMessage());
        GradCheck.assertOk("square", v -> F.mul(v[0], v[0]), seq(3));
        GradCheck.Result unused = GradCheck.check(v -> F.mul(v[0], Var.constant(seq(3))), seq(3), seq(3));
        assertTrue(unused.ok(1e-6), "an input that does not reach the output has gradient 0: " + unused);
    }

    @Test void the_trace_records_stages_and_writes_ops_as_text() {
        Trace t = Trace.start();
        try {
            assertTrue(Trace.active());
            Trace.stage("embed", "what it means");
            Var x = Var.param(seq(2, 3));
            F.linear(x, Var.param(seq(4, 3)), null);
            Trace.stage("empty", "ran nothing");
        } finally {
            t.stop();
        }
        assertFalse(Trace.active());
        Trace.Stage s = t.stage("embed");
        assertEquals("what it means", s.meaning());
        assertArrayEquals(new int[]{2, 4}, s.shape());
        assertArrayEquals(new int[]{2, 4}, s.output().shape());
        assertEquals("linear [2,3], [4,3], - -> [2,4]", s.ops().get(0).toString());
        assertNull(t.stage("empty").shape());
        assertNull(t.stage("empty").output());
        assertNull(t.stage("nope"));
        assertEquals(24, t.macs());
    }
}
