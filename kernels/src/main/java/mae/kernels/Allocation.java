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
     * without their intrinsics, which JDK 17 does in about half the launches (about 1 GB per fmnist step, 15-20%
     * slower; JDK 25 did not, bench/results/2026-12-01-vm-amd-epyc-jit-fallbacks.md).
     */
    public static boolean ranFallbacks(long stepBytes, long workspaceBytes) {
        return workspaceBytes > 0 && stepBytes >= workspaceBytes / 4;
    }

    /**
     * The warning line for a step (what: "step 51", say) that allocated stepBytes beside a workspace of
     * workspaceBytes, or null when {@link #ranFallbacks} says it ran clean.
     */
    public static String fallbackWarning(String what, long stepBytes, long workspaceBytes) {
        if (!ranFallbacks(stepBytes, workspaceBytes)) return null;
        return String.format(java.util.Locale.ROOT, "warning: %s allocated %.1f MB (%.0f%% of the workspace's buffers): the vector kernels ran"
                + " as the Vector API's allocating Java fallbacks (the JIT still warming up, or, on JDK 17, C2 compiled them without their"
                + " intrinsics in this launch, about 15-20%% slower); run again, or on a newer JDK (JDK 25 showed none): JAVA=/path/to/java bin/mae ...",
                what, stepBytes / 1e6, 100.0 * stepBytes / workspaceBytes);
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
