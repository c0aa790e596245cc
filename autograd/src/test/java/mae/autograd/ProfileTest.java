package mae.autograd;

import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The step profile charges each op its phase, its calls and the FLOPs of its products. */
class ProfileTest {
    static Profile.Entry entry(List<Profile.Entry> es, String op, String phase) {
        for (Profile.Entry e : es) if (e.op.equals(op) && e.phase.equals(phase)) return e;
        return fail("no entry " + op + " " + phase + " in " + es.size() + " entries");
    }

    @Test void ops_sections_and_flops_are_recorded_while_active_only() {
        Rng r = new Rng(3);
        Var x = Var.param(Tensor.randn(r, 5, 7)), w = Var.param(Tensor.randn(r, 3, 7)), b = Var.param(Tensor.randn(r, 3));
        F.sum(F.linear(x, w, b)).backward();                            // before the profile: not counted
        Profile p = Profile.start();
        int[] ran = {0};
        try {
            F.sum(F.linear(x, w, b)).backward();
            F.sum(F.linear(x, w, b)).backward();
            Profile.section("optimizer", () -> ran[0]++);
        } finally {
            p.stop();
        }
        F.sum(F.linear(x, w, b)).backward();                            // after: not counted
        List<Profile.Entry> es = p.entries();
        Profile.Entry fwd = entry(es, "linear", "forward"), bwd = entry(es, "linear", "backward");
        assertEquals(2, fwd.calls);
        assertEquals(2 * 2L * 5 * 3 * 7, fwd.flops, "2 flops per multiply-add, (5, 7) x (7, 3)");
        assertEquals(2 * 4L * 5 * 3 * 7, bwd.flops, "two products backward");
        assertEquals(2 * 4L * (5 * 3 + 5 * 7 + 3 * 7 + 3), fwd.bytes, "output and inputs, 4 bytes each");
        assertEquals(2, entry(es, "sum", "forward").calls);
        assertEquals(1, entry(es, "optimizer", "section").calls);
        assertEquals(2 * 3, entry(es, "leaf gradients", "section").calls, "x, w and b reached in each of two backward passes");
        assertEquals(1, ran[0]);
        for (int i = 1; i < es.size(); i++) assertTrue(es.get(i - 1).nanos >= es.get(i).nanos, "most time first");
    }

    /** The products are also kept per input shapes, each shape's calls and time adding up to its op's. */
    @Test void products_are_split_by_their_inputs_shapes() {
        Rng r = new Rng(6);
        Var w = Var.param(Tensor.randn(r, 3, 7)), b = Var.param(Tensor.randn(r, 3));
        Var x1 = Var.param(Tensor.randn(r, 5, 7)), x2 = Var.param(Tensor.randn(r, 2, 4, 7));
        Profile p = Profile.start();
        try {
            F.sum(F.linear(x1, w, b)).backward();
            F.sum(F.linear(x2, w, null)).backward();
            F.sum(F.linear(x2, w, null)).backward();
        } finally {
            p.stop();
        }
        List<Profile.Entry> ps = p.products();
        assertEquals(4, ps.size(), "two shapes, forward and backward: " + ps.size());
        long nanos = 0, calls = 0;
        for (Profile.Entry e : ps) {
            assertEquals("linear", e.op);
            assertTrue(e.shape.equals("[5,7] [3,7] [3]") || e.shape.equals("[2,4,7] [3,7]"), e.shape);
            assertEquals(e.shape.startsWith("[5") ? 1 : 2, e.calls, e.shape);
            assertEquals(2L * (e.phase.equals("forward") ? 1 : 2) * e.calls * (e.shape.startsWith("[5") ? 5 : 8) * 3 * 7, e.flops, e.phase + " " + e.shape);
            if (e.phase.equals("forward")) { nanos += e.nanos; calls += e.calls; }
        }
        Profile.Entry fwd = entry(p.entries(), "linear", "forward");
        assertEquals(fwd.calls, calls);
        assertEquals(fwd.nanos, nanos);
        assertEquals("", fwd.shape);
        for (Profile.Entry e : p.entries()) assertTrue(e.flops > 0 || ps.stream().noneMatch(q -> q.op.equals(e.op)), e.op);
    }

    /**
     * A backward computes a product only for an operand that needs a gradient: the patch embedding's images need
     * none, so its backward is dW alone, and counting dX too had read it above the machine's peak.
     */
    @Test void backward_counts_only_the_gradients_it_computes() {
        Rng r = new Rng(5);
        Var images = Var.constant(Tensor.randn(r, 5, 7)), w = Var.param(Tensor.randn(r, 3, 7)), frozen = Var.constant(Tensor.randn(r, 3, 7));
        Profile p = Profile.start();
        try {
            F.sum(F.linear(images, w, null)).backward();                                  // dW only
        } finally {
            p.stop();
        }
        assertEquals(2L * 5 * 3 * 7, entry(p.entries(), "linear", "backward").flops, "one product: dW");
        Var x = Var.param(Tensor.randn(r, 5, 7));
        p = Profile.start();
        try {
            F.sum(F.linear(x, frozen, null)).backward();                                  // dX only
            F.sum(F.matmul(images, F.reshape(w, 7, 3))).backward();                       // d(w) only
        } finally {
            p.stop();
        }
        assertEquals(2L * 5 * 3 * 7, entry(p.entries(), "linear", "backward").flops, "one product: dX");
        assertEquals(2L * 5 * 3 * 7, entry(p.entries(), "matmul", "backward").flops, "one product: the right operand's");
    }

    @Test void attention_backward_counts_five_products_per_two_forward() {
        Rng r = new Rng(4);
        Var q = Var.param(Tensor.randn(r, 1, 2, 5, 8)), k = Var.param(Tensor.randn(r, 1, 2, 5, 8)), v = Var.param(Tensor.randn(r, 1, 2, 5, 8));
        Profile p = Profile.start();
        try {
            F.sum(F.attention(q, k, v, 0.3f)).backward();
        } finally {
            p.stop();
        }
        long macs = 2L * 2 * 5 * 5 * 8;
        assertEquals(2 * macs, entry(p.entries(), "attention", "forward").flops);
        assertEquals(5 * macs, entry(p.entries(), "attention", "backward").flops);
    }

    /** Every entry's time lies between 0 and the wall time around the profiled work; backward moves twice the bytes. */
    @Test void times_are_bounded_by_the_wall_clock_and_stop_returns_the_profile() {
        Rng r = new Rng(5);
        Var x = Var.param(Tensor.randn(r, 6, 4)), w = Var.param(Tensor.randn(r, 5, 4));
        F.sum(F.linear(x, w, null)).backward();                         // warm up outside the profile
        long t0 = System.nanoTime();
        Profile p = Profile.start();
        F.sum(F.linear(x, w, null)).backward();
        Profile.section("host work", () -> { });
        assertSame(p, p.stop());
        long wall = System.nanoTime() - t0;
        for (Profile.Entry e : p.entries())
            assertTrue(e.nanos >= 0 && e.nanos <= wall, e.op + " " + e.phase + ": " + e.nanos + " ns of " + wall);
        assertEquals(2 * entry(p.entries(), "linear", "forward").bytes, entry(p.entries(), "linear", "backward").bytes);
    }
}
