package mae.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits a range of independent work items over the cores: the calling thread runs the first chunk itself
 * and threads() - 1 daemon workers run the others (threads(): bin/mae --threads N, else the core count). (The
 * common fork-join pool has cores - 1 workers and an external caller that only waits, which on a 2-core machine
 * leaves one core idle.) The partition depends
 * only on n, minChunk and threads(), so results are the same run to run. Idle workers and a waiting caller poll
 * for 50 us before sleeping: an fmnist training step (batch 128) makes about 210 calls, and waking a sleeping thread cost
 * about 60 us per call on the 2-core VM, against about 1 us now (a loop of 20,000 calls of forRange(2, 1, no-op)).
 */
public final class Parallel {
    private Parallel() {}

    public interface Range { void run(int from, int to); }

    /**
     * The kernel threads and their workers (threads - 1 daemon threads; none for one thread). Replaced as a whole
     * by {@link #setThreads}, so a kernel call sees one consistent pair.
     */
    record Pool(int threads, ExecutorService workers) {}

    private static final ThreadLocal<Boolean> WORKER = ThreadLocal.withInitial(() -> false);
    private static volatile Pool pool = pool(defaultThreads());

    /** The default thread count: -Dmae.threads=N where set (JMH forks), else the cores this JVM may use. */
    static int defaultThreads() {
        return Math.max(1, Integer.getInteger("mae.threads", Runtime.getRuntime().availableProcessors()));
    }

    /** Most threads {@link #setThreads} accepts (bin/mae --threads declares the same range). */
    public static final int MAX_THREADS = 1024;

    /**
     * The threads a kernel call splits its work over: the pool's, or on a thread inside {@link #splitAs} the count
     * it forces. Kernels that size their own chunks use this, so that tests reach their splits too.
     */
    public static int threads() {
        Integer forced = FORCED.get();
        return forced != null ? forced : pool.threads();
    }

    /** The count {@link #splitAs} forces on its thread; null outside it (always, in a program). */
    private static final ThreadLocal<Integer> FORCED = new ThreadLocal<>();

    /**
     * For tests, so that every split is exercised whatever the machine: runs body with each forRange started on
     * this thread partitioned as if there were {@code threads} threads, the chunks run one after another on this
     * thread (the same chunks and offsets as that many threads would give; in a program they run concurrently).
     * Package-private: only tests in this package can reach it; nothing changes for other threads or after it returns.
     */
    static void splitAs(int threads, Runnable body) {
        if (threads < 1) throw new IllegalArgumentException("splitAs: threads = " + threads + " must be >= 1");
        Integer was = FORCED.get();
        FORCED.set(threads);
        try {
            body.run();
        } finally {
            if (was == null) FORCED.remove(); else FORCED.set(was);
        }
    }

    /**
     * Sets the kernel thread count (bin/mae --threads N). Meant for the start of a program, before kernels run:
     * the old workers finish what they hold and stop; a call already splitting its work with them runs the chunks
     * they refuse on its own thread, so no work is lost.
     */
    public static synchronized void setThreads(int n) {
        if (n < 1 || n > MAX_THREADS) throw new IllegalArgumentException("kernel threads must be from 1 to " + MAX_THREADS + ", got " + n);
        Pool old = pool;
        if (old.threads() == n) return;
        pool = pool(n);
        if (old.workers() != null) old.workers().shutdown();
    }

    private static Pool pool(int threads) {
        return new Pool(threads, threads <= 1 ? null : new ThreadPoolExecutor(threads - 1, threads - 1,
                0L, TimeUnit.MILLISECONDS, new SpinningQueue(), r -> {
            Thread t = new Thread(() -> { WORKER.set(true); r.run(); }, "mae-kernel-worker");
            t.setDaemon(true);
            return t;
        }));
    }

    /** How long an idle worker, or a caller waiting for one, polls before it sleeps: waking a sleeping thread costs tens of microseconds. */
    private static final long SPIN_NANOS = 50_000;

    /** A work queue whose takers poll for SPIN_NANOS before blocking, so back-to-back kernels find their workers awake. */
    private static final class SpinningQueue extends LinkedBlockingQueue<Runnable> {
        @Override public Runnable take() throws InterruptedException {
            long end = System.nanoTime() + SPIN_NANOS;
            do {
                Runnable r = poll();
                if (r != null) return r;
                Thread.onSpinWait();
            } while (System.nanoTime() < end);
            return super.take();
        }
    }

    /**
     * Runs body over [0, n) in up to threads() contiguous chunks of at least minChunk items. Calls made from inside
     * a chunk (nested parallelism, on a worker or on the caller) run serially: every thread is already busy.
     */
    public static void forRange(int n, int minChunk, Range body) { forRange(pool, n, minChunk, body); }

    /**
     * Items [0, first) of firstBody, then items [0, then) of thenBody, each run as body.run(i, i + 1) by whichever thread
     * takes it next: the calling thread and the workers of one {@link #forRange} over the threads each take the next
     * untaken item until none is left, and none starts on the second set before every item of the first has finished
     * (a thread with none left to take waits, spinning, for those the others hold). For work whose result does not depend
     * on which thread runs an item (a GEMM packs its shared B panel in the first set and runs its row blocks over it in
     * the second): a thread that runs slower (a vCPU the host shares, a smaller core) takes fewer items, and one that
     * starts late (a worker asleep since the last call) finds the first set done by the others instead of holding them
     * up. A failure in the first set ends the call with its exception, without leaving the other threads waiting.
     */
    public static void forItems(int first, Range firstBody, int then, Range thenBody) {
        AtomicInteger nextFirst = new AtomicInteger(), finished = new AtomicInteger(), nextThen = new AtomicInteger();
        forRange(Math.min(Math.max(first, then), threads()), 1, (t0, t1) -> {
            for (int i; (i = nextFirst.getAndIncrement()) < first; finished.incrementAndGet()) {
                try {
                    firstBody.run(i, i + 1);
                } catch (RuntimeException | Error e) {
                    finished.set(Integer.MIN_VALUE);    // stays below zero: the others stop waiting
                    throw e;
                }
            }
            for (int f; (f = finished.get()) < first; Thread.onSpinWait()) if (f < 0) return;
            for (int i; (i = nextThen.getAndIncrement()) < then; ) thenBody.run(i, i + 1);
        });
    }

    /** {@link #forRange} with the pool it read given (tests: one whose workers refuse chunks, as a replaced pool's do). */
    static void forRange(Pool p, int n, int minChunk, Range body) {
        int chunks = Math.min(threads(), Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1 || WORKER.get()) { body.run(0, n); return; }
        if (p.workers() == null || FORCED.get() != null) { inTurn(n, chunks, body); return; }   // only under splitAs
        @SuppressWarnings("unchecked") Future<?>[] fs = new Future<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int from = bound(n, chunks, c), to = bound(n, chunks, c + 1);
            try {
                fs[c - 1] = p.workers().submit(() -> body.run(from, to));
            } catch (RejectedExecutionException e) {             // setThreads replaced the pool meanwhile
                FutureTask<Void> here = new FutureTask<>(() -> body.run(from, to), null);
                fs[c - 1] = here;
                inline(here);
            }
        }
        RuntimeException failure = null;
        WORKER.set(true);                       // the caller's own chunk counts as a worker: nested calls stay serial
        try {
            body.run(0, bound(n, chunks, 1));
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            WORKER.set(false);
        }
        for (Future<?> f : fs) {
            for (long end = System.nanoTime() + SPIN_NANOS; !f.isDone() && System.nanoTime() < end; ) Thread.onSpinWait();
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for kernel workers", e);
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) failure = e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
            }
        }
        if (failure != null) throw failure;
    }

    /** Runs a refused chunk on the calling thread, marked as a worker so that its nested calls stay serial. */
    private static void inline(FutureTask<Void> task) {
        boolean was = WORKER.get();
        WORKER.set(true);
        try { task.run(); } finally { WORKER.set(was); }
    }

    /** The chunks of a forced split, one after another on this thread (nested calls serial, as on a worker). */
    private static void inTurn(int n, int chunks, Range body) {
        WORKER.set(true);
        try {
            for (int c = 0; c < chunks; c++) body.run(bound(n, chunks, c), bound(n, chunks, c + 1));
        } finally {
            WORKER.set(false);
        }
    }

    static int bound(int n, int chunks, int c) { return (int) ((long) n * c / chunks); }
}
