package mae.tensor;

import mae.kernels.Workspace;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class WorkspaceTest {
    private static final int N = Workspace.MIN_POOLED + 3;

    @Test void a_repeated_computation_reuses_the_same_zeroed_buffers() {
        Workspace ws = new Workspace();
        float[] first, second;
        try (Workspace.Scope s = ws.open()) {
            first = Tensor.zeros(N).add(1f).data();
            assertEquals(1f, first[N - 1]);
        }
        assertEquals(2, ws.stats().created());          // zeros, then add's result
        try (Workspace.Scope s = ws.open()) {
            Tensor z = Tensor.zeros(N);
            for (float v : z.data()) assertEquals(0f, v, "a reused buffer starts at zero");
            second = z.add(1f).data();
        }
        assertEquals(2, ws.stats().created(), "the second run makes no new buffer");
        assertEquals(2, ws.stats().reused());
        assertTrue(first == second, "the same allocation gets the same buffer");
    }

    @Test void small_buffers_and_work_outside_a_scope_come_from_the_jvm() {
        Workspace ws = new Workspace();
        try (Workspace.Scope s = ws.open()) {
            Tensor.zeros(Workspace.MIN_POOLED - 1);
            Tensor kept = Workspace.outside(() -> Tensor.zeros(N));
            assertTrue(Workspace.isOpen(), "outside() restores the open workspace");
            kept.fill(3f);
        }
        assertEquals(0, ws.stats().created());
        assertFalse(Workspace.isOpen());
    }

    @Test void released_buffers_are_poisoned_under_the_test_flag() {
        assertTrue(Boolean.getBoolean("mae.workspace.poison"), "the test JVM runs with -Dmae.workspace.poison=true");
        Workspace ws = new Workspace();
        Tensor leaked;
        try (Workspace.Scope s = ws.open()) { leaked = Tensor.ones(N); }
        assertTrue(Float.isNaN(leaked.get(0)), "a tensor used after its scope reads NaN, not stale values");
    }

    @Test void scopes_do_not_nest_and_close_runs_the_registered_actions() {
        Workspace ws = new Workspace();
        int[] ran = {0};
        try (Workspace.Scope s = ws.open()) {
            assertThrows(IllegalStateException.class, () -> new Workspace().open());
            assertTrue(Workspace.atClose(() -> ran[0]++));
            assertEquals(0, ran[0]);
        }
        assertEquals(1, ran[0]);
        assertFalse(Workspace.atClose(() -> ran[0]++), "no workspace open: nothing is registered");
    }
}
