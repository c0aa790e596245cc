package mae.autograd;

import mae.kernels.Workspace;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TapeTest {
    @Test void gradients_accumulate_across_backward_calls_until_zeroed() {
        Var x = Var.param(Tensor.of(new float[]{1, 2, 3}, 3));
        F.sum(F.mul(x, x)).backward();
        assertArrayEquals(new float[]{2, 4, 6}, x.grad().toArray());
        F.sum(F.mul(x, 3f)).backward();
        assertArrayEquals(new float[]{5, 7, 9}, x.grad().toArray());
        x.zeroGrad();
        assertNull(x.grad());
        F.sum(F.mul(x, 2f)).backward();                 // the reused gradient buffer starts afresh
        assertArrayEquals(new float[]{2, 2, 2}, x.grad().toArray());
    }

    /**
     * In a workspace scope a leaf's first gradient becomes its buffer (no copy): it must then outlive the scope (the
     * tests poison released buffers with NaN), and the pool must not grow from step to step.
     */
    @Test void a_leaf_keeps_its_first_gradient_of_a_scope_past_the_scope_and_the_pool_stays_the_same() {
        Var w = Var.param(Tensor.randn(new Rng(7), 32, 32));          // 1024 values: pooled (Workspace.MIN_POOLED)
        Var c = Var.constant(Tensor.full(3f, 32, 32));
        Workspace ws = new Workspace();
        Tensor[] grads = new Tensor[3];
        long[] created = new long[3];
        for (int step = 0; step < 3; step++) {
            try (Workspace.Scope s = ws.open()) {
                w.zeroGrad();
                F.sum(F.mul(w, c)).backward();                       // dw = c, a new tensor of the scope
            }
            grads[step] = w.grad();
            created[step] = ws.stats().created();
            for (float v : w.grad().toArray()) assertEquals(3f, v, "step " + step + ": the gradient outlives its scope");
        }
        assertFalse(grads[1].sharesStorage(grads[2]), "each step's gradient is that step's tensor, not a copy into one buffer");
        assertEquals(created[1], created[2], "no buffer made after the first steps: the exchanged ones go back to the pool");
    }

    /**
     * The two inputs of an add receive one gradient tensor. Where the other input is not a leaf, it adds its later
     * gradients into that tensor in place, so the leaf must copy it, not keep it: here the leaf L is reached between
     * the add's backward and the second gradient of N.
     */
    @Test void a_leaf_does_not_keep_a_gradient_another_var_will_add_to() {
        Rng r = new Rng(8);
        Var leaf = Var.param(Tensor.randn(r, 32, 32)), leaf2 = Var.param(Tensor.randn(r, 32, 32));
        Var c = Var.constant(Tensor.full(2f, 32, 32));
        Workspace ws = new Workspace();
        try (Workspace.Scope s = ws.open()) {
            Var n = F.mul(leaf2, 2f);
            Var t = F.mul(n, 3f);
            Var sum = F.mul(F.add(leaf, n), c);                     // add's gradient: 2 everywhere, one tensor for leaf and n
            F.add(F.sum(t), F.sum(sum)).backward();                  // t's side first on the tape: n's gradient 3 comes after leaf's turn
        }
        for (float v : leaf.grad().toArray()) assertEquals(2f, v, "d out / d leaf");
        for (float v : leaf2.grad().toArray()) assertEquals(10f, v, "d out / d leaf2 = 2 (2 + 3)");
    }

    @Test void backward_from_a_given_gradient() {
        Var x = Var.param(Tensor.of(new float[]{1, 2}, 2));
        F.mul(x, 2f).backward(Tensor.of(new float[]{10, 100}, 2));
        assertArrayEquals(new float[]{20, 200}, x.grad().toArray());
    }

    @Test void a_var_used_twice_and_through_a_view_sums_its_paths() {
        Var x = Var.param(Tensor.of(new float[]{1, 2, 3, 4}, 2, 2));
        // y = sum(x * x^T): dy/dx = x^T + x^T... elementwise: d/dx_ij (x_ij x_ji summed over ij) = 2 x_ji
        F.sum(F.mul(x, F.transpose(x, 0, 1))).backward();
        assertArrayEquals(new float[]{2, 6, 4, 8}, x.grad().toArray());
    }

    @Test void no_grad_scope_and_detach_record_nothing() {
        Var x = Var.param(Tensor.ones(2));
        try (Grad.Scope s = Grad.off()) {
            Var y = F.mul(x, 2f);
            assertFalse(y.requiresGrad());
            assertTrue(y.isLeaf());
        }
        Var z = F.mul(x.detach(), 2f);
        assertFalse(z.requiresGrad());
        assertThrows(IllegalStateException.class, () -> F.sum(z).backward());
        assertTrue(F.mul(x, 2f).requiresGrad(), "grad is on again after the scope");
    }

    @Test void backward_releases_the_tape() {
        Var x = Var.param(Tensor.ones(3));
        Var h = F.exp(x);
        Var y = F.sum(h);
        assertFalse(h.isLeaf());
        y.backward();
        assertTrue(h.isLeaf() && y.isLeaf(), "nodes are dropped once used, freeing their saved tensors");
        assertNull(h.grad(), "intermediate gradients are not kept");
        assertNotNull(x.grad());
    }

    @Test void non_scalar_backward_needs_a_gradient() {
        Var x = Var.param(Tensor.ones(3));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> F.exp(x).backward());
        assertTrue(e.getMessage().contains("[3]"), e.getMessage());
    }

    /** A backward rule whose gradient has the wrong shape is stopped at once, naming the op and both shapes. */
    @Test void a_backward_rule_with_a_wrong_gradient_shape_is_refused() {
        Var x = Var.param(Tensor.ones(2, 3));
        Var y = F.record("badRule", x.value().mul(2f), g -> new Tensor[]{Tensor.ones(3, 2)}, x);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> F.sum(y).backward());
        assertTrue(e.getMessage().contains("badRule") && e.getMessage().contains("[3,2]") && e.getMessage().contains("[2,3]"), e.getMessage());
    }

    /** A rule may give no gradient for an input: that input then gets none (not a zero, not an error); the others do. */
    @Test void an_input_a_rule_gives_no_gradient_gets_none() {
        Var a = Var.param(Tensor.ones(2)), b = Var.param(Tensor.ones(2));
        Var y = F.record("firstOnly", a.value().add(b.value()), g -> new Tensor[]{g, null}, a, b);
        Var z = F.record("passThrough", y.value().copy(), g -> new Tensor[]{g}, y);   // b is reached only through y's rule
        F.sum(z).backward();
        assertArrayEquals(new float[]{1, 1}, a.grad().toArray());
        assertNull(b.grad());
    }

    @Test void a_var_says_its_name_shape_and_whether_it_requires_grad() {
        assertEquals("Var[2,3] requires grad", Var.param(Tensor.ones(2, 3)).toString());
        assertEquals("Var[4]", Var.constant(Tensor.ones(4)).toString());
        Var named = Var.param(Tensor.ones(1)).named("w");
        assertEquals("Var(w)[1] requires grad", named.toString());
    }
}
