package mae.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The kernel thread count is set at run time (bin/mae --threads N), after kernel classes have loaded. */
class ParallelTest {
    /** The threads that ran the chunks of one call over n items, and the number of chunks. */
    static Set<Thread> threadsOf(int n, AtomicInteger chunks) {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        int[] hits = new int[n];
        Parallel.forRange(n, 1, (from, to) -> {
            chunks.incrementAndGet();
            seen.add(Thread.currentThread());
            for (int i = from; i < to; i++) hits[i]++;
            long end = System.nanoTime() + 2_000_000;              // long enough that each chunk needs its own thread
            while (System.nanoTime() < end) Thread.onSpinWait();
        });
        for (int i = 0; i < n; i++) assertEquals(1, hits[i], "item " + i + " ran once");
        return seen;
    }

    /**
     * forItems runs every item of both sets once, as one-item ranges, none of the second before all of the first have
     * finished, and a slow thread takes fewer of them.
     */
    @Test void items_go_to_whichever_thread_is_free() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(3);
            int n = 60, m = 7;
            int[] hits = new int[n], firstHits = new int[m];
            long[] firstEnded = new long[m], thenStarted = new long[n];
            java.util.Map<Thread, Integer> taken = new ConcurrentHashMap<>();
            Thread caller = Thread.currentThread();
            Parallel.forItems(m, (from, to) -> {
                assertEquals(from + 1, to, "one item per range");
                firstHits[from]++;
                long end = System.nanoTime() + (from == m - 1 ? 3_000_000 : 100_000);   // the last item of the first set is slow
                while (System.nanoTime() < end) Thread.onSpinWait();
                firstEnded[from] = System.nanoTime();
            }, n, (from, to) -> {
                assertEquals(from + 1, to, "one item per range");
                thenStarted[from] = System.nanoTime();
                hits[from]++;
                taken.merge(Thread.currentThread(), 1, Integer::sum);
                long end = System.nanoTime() + (Thread.currentThread() == caller ? 6_000_000 : 1_000_000);   // the caller 6x slower
                while (System.nanoTime() < end) Thread.onSpinWait();
            });
            for (int i = 0; i < m; i++) assertEquals(1, firstHits[i], "first-set item " + i + " ran once");
            for (int i = 0; i < n; i++) assertEquals(1, hits[i], "item " + i + " ran once");
            long lastFirst = java.util.Arrays.stream(firstEnded).max().getAsLong(), firstThen = java.util.Arrays.stream(thenStarted).min().getAsLong();
            assertTrue(firstThen >= lastFirst, "the second set started " + (lastFirst - firstThen) / 1000 + " us before the first had finished");
            assertTrue(taken.size() > 1, "more than one thread took items: " + taken);
            int callers = taken.getOrDefault(caller, 0), others = n - callers;
            assertTrue(callers < others / 2, "the slow caller took fewer items than each fast worker on average: " + taken);
            int[] none = {0};
            Parallel.forItems(0, (from, to) -> none[0]++, 0, (from, to) -> none[0]++);
            assertEquals(0, none[0], "no items, no calls");
            Parallel.forItems(0, (from, to) -> none[0]++, 3, (from, to) -> none[0] += 10);
            assertEquals(30, none[0], "an empty first set, then the second");
        } finally {
            Parallel.setThreads(before);
        }
    }

    /**
     * A failure in forItems' first set ends the call with that exception, on whichever thread it happens: the others
     * stop waiting for the item that failed (else they would spin for good and this test would time out), and no item
     * of the second set runs.
     */
    @Test void a_failed_first_item_ends_the_call() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(3);
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
                for (int failing = 0; failing < 6; failing++) {
                    int bad = failing;
                    int[] second = {0};
                    var e = assertThrows(IllegalStateException.class, () -> Parallel.forItems(6, (from, to) -> {
                        long end = System.nanoTime() + 200_000;
                        while (System.nanoTime() < end) Thread.onSpinWait();
                        if (from == bad) throw new IllegalStateException("item " + from);
                    }, 4, (from, to) -> second[0]++));
                    assertEquals("item " + bad, e.getMessage());
                    assertEquals(0, second[0], "no item of the second set ran after item " + bad + " failed");
                }
            });
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test void the_thread_count_changes_after_the_kernels_have_loaded() {
        int before = Parallel.threads();
        try {
            Gemm.dot(new float[4], 0, new float[4], 0, 4);        // kernel classes loaded and used
            Parallel.setThreads(3);
            assertEquals(3, Parallel.threads());
            AtomicInteger chunks = new AtomicInteger();
            Set<Thread> t = threadsOf(300, chunks);
            assertEquals(3, chunks.get(), "three chunks");
            assertEquals(3, t.size(), "on three threads: " + t);
            assertTrue(t.contains(Thread.currentThread()), "the caller runs one chunk itself");

            Parallel.setThreads(1);
            chunks.set(0);
            assertEquals(Set.of(Thread.currentThread()), threadsOf(300, chunks), "one thread: the caller alone");
            assertEquals(1, chunks.get());
        } finally {
            Parallel.setThreads(before);
        }
        assertEquals(before, Parallel.threads());
    }

    @Test void out_of_range_counts_are_refused() {
        int before = Parallel.threads();
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(Parallel.MAX_THREADS + 1));
        assertEquals(before, Parallel.threads());
        try {
            Parallel.setThreads(Parallel.MAX_THREADS);                            // the range is inclusive (workers start on demand)
            assertEquals(Parallel.MAX_THREADS, Parallel.threads());
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** A replaced pool's workers stop: none is left idling for the rest of the program. */
    @Test void a_replaced_pools_workers_stop() throws Exception {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(3);
            Set<Thread> workers = threadsOf(300, new AtomicInteger());
            workers.remove(Thread.currentThread());
            assertEquals(2, workers.size());
            Parallel.setThreads(2);
            for (Thread w : workers) {
                w.join(10_000);
                assertFalse(w.isAlive(), w + " still running");
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** A new thread's first call is split too: no thread starts out counted as a worker. */
    @Test void a_new_threads_first_call_is_split() throws Exception {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(3);
            AtomicInteger chunks = new AtomicInteger();
            Thread t = new Thread(() -> threadsOf(300, chunks));
            t.start();
            t.join();
            assertEquals(3, chunks.get());
        } finally {
            Parallel.setThreads(before);
        }
    }

    /**
     * Chunks that a pool refuses (setThreads shut it down after the call read it) run on the caller: every item
     * once, and calls nested in them serial, as in any chunk. Here the pool refuses every chunk it is handed.
     */
    @Test @Timeout(60) void chunks_a_replaced_pool_refuses_run_on_the_caller_with_nested_calls_serial() {
        int before = Parallel.threads();
        ExecutorService shutDown = Executors.newSingleThreadExecutor();
        shutDown.shutdown();
        try {
            Parallel.setThreads(3);
            int[] hits = new int[300];
            AtomicInteger chunks = new AtomicInteger();
            Set<Thread> nested = ConcurrentHashMap.newKeySet();
            Parallel.forRange(new Parallel.Pool(3, shutDown), hits.length, 1, (from, to) -> {
                chunks.incrementAndGet();
                for (int i = from; i < to; i++) hits[i]++;
                Parallel.forRange(64, 1, (a, b) -> nested.add(Thread.currentThread()));
            });
            assertEquals(3, chunks.get());
            for (int i = 0; i < hits.length; i++) assertEquals(1, hits[i], "item " + i + " ran once");
            assertEquals(Set.of(Thread.currentThread()), nested, "nested calls stayed on the caller");
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test void a_call_running_while_the_pool_is_replaced_loses_no_work() throws Exception {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(2);
            Thread other = new Thread(() -> {
                for (int r = 0; r < 200; r++) Parallel.setThreads(r % 2 == 0 ? 3 : 2);
            });
            other.start();
            for (int r = 0; r < 200; r++) {
                AtomicInteger sum = new AtomicInteger();
                Parallel.forRange(64, 1, (from, to) -> { for (int i = from; i < to; i++) sum.addAndGet(i); });
                assertEquals(64 * 63 / 2, sum.get(), "round " + r);
            }
            other.join();
        } finally {
            Parallel.setThreads(before);
        }
    }
}
