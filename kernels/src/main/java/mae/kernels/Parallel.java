package mae.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits a range of independent work items over the common fork-join pool (one thread per core). */
public final class Parallel {
    private Parallel() {}

    public interface Range { void run(int from, int to); }

    /** Threads used; -Dmae.threads=N overrides the core count. */
    public static final int THREADS = Integer.getInteger("mae.threads", Runtime.getRuntime().availableProcessors());

    /**
     * Runs body over [0, n) in chunks of at least minChunk items, in parallel when there is more than one
     * chunk and more than one thread.
     */
    public static void forRange(int n, int minChunk, Range body) {
        int chunks = Math.min(THREADS, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1) { body.run(0, n); return; }
        ForkJoinPool.commonPool().invoke(new Split(body, 0, n, chunks));
    }

    private static final class Split extends RecursiveAction {
        final Range body; final int from, to, chunks;
        Split(Range body, int from, int to, int chunks) { this.body = body; this.from = from; this.to = to; this.chunks = chunks; }
        @Override protected void compute() {
            if (chunks <= 1) { body.run(from, to); return; }
            int half = chunks / 2;
            int mid = from + (int) ((long) (to - from) * half / chunks);
            invokeAll(new Split(body, from, mid, half), new Split(body, mid, to, chunks - half));
        }
    }
}
