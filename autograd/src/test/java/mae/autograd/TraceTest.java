package mae.autograd;

import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TraceTest {
    static Var ones(int... shape) { return Var.constant(Tensor.ones(shape)); }

    @Test void ops_land_in_the_current_stage_with_shapes_and_multiply_adds() {
        Trace t = Trace.start();
        try {
            Trace.stage("project", "a linear layer");
            Var y = F.linear(ones(2, 5, 8), ones(3, 8), ones(3));         // (2, 5, 3): 2*5*3 outputs x 8
            Trace.stage("block", 0, "matmul then attention");
            F.matmul(y, ones(3, 4));                                      // (2, 5, 4) x 3
            F.attention(ones(1, 2, 6, 4), ones(1, 2, 6, 4), ones(1, 2, 6, 4), 0.5f); // 2 * 1*2 * 6*6*4
        } finally {
            t.stop();
        }
        assertEquals(List.of("project", "block 0"), t.stages().stream().map(Trace.Stage::name).toList());
        Trace.Stage proj = t.stage("project");
        assertEquals(2 * 5 * 3 * 8, proj.macs());
        assertArrayEquals(new int[]{2, 5, 3}, proj.shape());
        Trace.Op lin = proj.ops().get(0);
        assertEquals("linear", lin.name());
        assertArrayEquals(new int[]{3, 8}, lin.inputs().get(1));
        Trace.Stage block = t.stage("block 0");
        assertEquals(2 * 5 * 4 * 3 + 2L * 2 * 6 * 6 * 4, block.macs());
        assertArrayEquals(new int[]{1, 2, 6, 4}, block.shape());          // the last op's output
        assertEquals(proj.macs() + block.macs(), t.macs());
    }

    @Test void records_under_no_grad_too_and_nothing_outside_a_trace() {
        Trace t = Trace.start();
        try (Grad.Scope s = Grad.off()) {
            F.add(ones(2), ones(2));
        } finally {
            t.stop();
        }
        assertEquals(1, t.stages().get(0).ops().size());
        assertEquals("(before the first stage)", t.stages().get(0).name());
        F.add(ones(2), ones(2));
        Trace.stage("ignored", "no trace is recording");
        assertEquals(1, t.stages().size());
        assertFalse(Trace.active());
    }

    @Test void a_nested_trace_records_alone_and_hands_back_to_the_outer_one() {
        Trace outer = Trace.start();
        try {
            Trace.stage("outer", "");
            Trace inner = Trace.start();
            F.neg(ones(3));
            inner.stop();
            F.exp(ones(3));
            assertEquals(1, inner.stages().get(0).ops().size());
            assertEquals("neg", inner.stages().get(0).ops().get(0).name());
        } finally {
            outer.stop();
        }
        assertEquals(List.of("exp"), outer.stage("outer").ops().stream().map(Trace.Op::name).toList());
        assertFalse(Trace.active());
    }
}
