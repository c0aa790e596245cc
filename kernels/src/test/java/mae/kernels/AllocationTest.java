package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AllocationTest {
    /** The counters see an allocation on this thread. */
    @Test void bytes_count_what_this_thread_allocates() {
        long before = Allocation.bytes();
        float[] big = new float[2_000_000];                       // 8 MB
        big[big.length - 1] = 1;
        assertTrue(Allocation.bytes() - before >= 8_000_000, "8 MB allocated, counted " + (Allocation.bytes() - before));
    }

    /** The steps measured on the 2-core VM (bench/results/2026-12-01-vm-amd-epyc-jit-fallbacks.md) fall on their side. */
    @Test void fallback_check_separates_the_measured_steps() {
        assertFalse(Allocation.ranFallbacks(5_840_000L, 672_600_000L), "clean fmnist step");
        assertFalse(Allocation.ranFallbacks(111_600_000L, 672_600_000L), "the old build's clean fmnist step");
        assertFalse(Allocation.ranFallbacks(31_740_000L, 2_267_100_000L), "clean ViT-B step");
        assertTrue(Allocation.ranFallbacks(1_062_870_000L, 672_600_000L), "fmnist step in the fallback state");
        assertTrue(Allocation.ranFallbacks(1_106_480_000L, 2_267_100_000L), "ViT-B step still warming up");
        assertTrue(Allocation.ranFallbacks(250, 1000), "a quarter of the workspace");
        assertFalse(Allocation.ranFallbacks(249, 1000), "just under a quarter");
        assertFalse(Allocation.ranFallbacks(1_000_000_000L, 0), "no workspace: nothing to compare with");
    }

    /** The warning line exists only for a fallback step, and names the step, its megabytes and the share. */
    @Test void the_warning_names_the_step_and_its_share_of_the_workspace() {
        assertNull(Allocation.fallbackWarning("step 51", 5_840_000L, 672_600_000L));
        String w = Allocation.fallbackWarning("step 51", 1_062_870_000L, 672_600_000L, List.of());
        assertTrue(w.startsWith("warning: step 51 allocated 1062.9 MB (158% of the workspace's buffers)"), w);
        assertTrue(w.endsWith("time more warm-up steps"), w);
        String bare = Allocation.fallbackWarning("step 51", 1_062_870_000L, 672_600_000L, List.of(JitFlags.TRAP_LIMIT));
        assertTrue(bare.contains("runs without -XX:PerMethodTrapLimit=10000") && bare.contains("bin/mae"), bare);
    }

    /** The test JVMs get the JIT limits from the build (pom.xml's test.argLine), and missing() reads them back. */
    @Test void this_jvm_runs_with_the_jit_limits() {
        assertEquals(List.of(), JitFlags.missing(), "the test JVM's flags: " + java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    }
}
