package mae.kernels;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * Heap allocation and GC counters of this JVM, for measuring what a loop allocates, and the check that tells
 * whether a step ran the vector kernels as the Vector API's allocating Java fallbacks.
 */
public final class Allocation {
    private Allocation() {}

    /**
     * With its {@link Workspace} a CPU step allocates little besides the pooled buffers: small objects (tensor headers,
     * tape nodes), 5.8 MB per fmnist step of 128 images against 673 MB of workspace buffers, 32 MB per ViT-B step
     * of 8 against 2267 MB. A quarter of the workspace's size or more means the vector kernels ran as the Vector
     * API's Java fallbacks, which allocate per operation: the JIT had not compiled them yet, or C2 compiled them
     * without their intrinsics, which JDK 17 did in about half the launches without {@link JitFlags} (about 1 GB
     * per fmnist step, 15-20% slower; bench/results/2026-12-01-vm-amd-epyc-jit-fallbacks.md).
     */
    public static boolean ranFallbacks(long stepBytes, long workspaceBytes) {
        return workspaceBytes > 0 && stepBytes >= workspaceBytes / 4;
    }

    /**
     * The warning line for a step (what: "step 51", say) that allocated stepBytes beside a workspace of
     * workspaceBytes, or null when {@link #ranFallbacks} says it ran clean.
     */
    public static String fallbackWarning(String what, long stepBytes, long workspaceBytes) {
        return fallbackWarning(what, stepBytes, workspaceBytes, JitFlags.missing());
    }

    /** As above, for a JVM launched without the given {@link JitFlags} (empty: launched with them). */
    static String fallbackWarning(String what, long stepBytes, long workspaceBytes, java.util.List<String> missingFlags) {
        if (!ranFallbacks(stepBytes, workspaceBytes)) return null;
        String why = missingFlags.isEmpty()
                ? "the JIT was still compiling them: time more warm-up steps"
                : "this JVM runs without " + String.join(" ", missingFlags) + ", without which C2 often compiles them without their"
                  + " intrinsics (about 15-20% slower; see mae.kernels.JitFlags): launch through bin/mae, which adds them, or add them to the java command";
        return String.format(java.util.Locale.ROOT, "warning: %s allocated %.1f MB (%.0f%% of the workspace's buffers): the vector kernels ran"
                + " as the Vector API's allocating Java fallbacks; %s", what, stepBytes / 1e6, 100.0 * stepBytes / workspaceBytes, why);
    }

    /** Bytes allocated so far by all live threads (HotSpot's per-thread allocation counters). */
    public static long bytes() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }

    public static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionCount());
        return n;
    }

    public static long gcMillis() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionTime());
        return n;
    }
}
