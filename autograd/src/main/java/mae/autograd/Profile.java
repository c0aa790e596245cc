package mae.autograd;

import mae.tensor.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a step's time goes, op by op, on one thread. While a profile is active:
 * <ul>
 *   <li>each op that {@link F} runs is charged the time since the previous op or {@link #mark} (its own work: the
 *       model does next to nothing between ops), under "op forward";</li>
 *   <li>each backward rule that {@link Var#backward} runs is timed on its own, under "op backward"; adding a gradient into a leaf's buffer (or
 *       copying the first one there) under the section "leaf gradients";</li>
 *   <li>work outside the tape (the optimizer, zeroing gradients) is timed by the caller with {@link #section}.</li>
 * </ul>
 * Kernels run synchronously on the CPU, so these are the ops' real times. A GPU runs them asynchronously: there
 * {@link #start(Runnable)} takes the device's synchronize, which then ends every timed op, rule and section, so
 * each is charged its kernels' time plus one launch and one wait (the profiled step runs slower than a free one).
 * FLOPs are counted for the matrix products as in {@link Trace} (2 per multiply-add; a backward costs one
 * product per operand that needs a gradient, attention's five per two, as its backward recomputes the scores:
 * {@link #backwardFlops}); bytes are the
 * least traffic of an op: each input and the output once, forward (the backward reads the output gradient and
 * the inputs and writes their gradients: twice that). Outside a profile the hooks cost one thread-local read.
 */
public final class Profile {
    private static final ThreadLocal<Profile> ACTIVE = new ThreadLocal<>();

    /** One op in one phase ("forward", "backward", or "section"), summed over the calls; shape "" or its inputs' shapes. */
    public static final class Entry {
        public final String op, phase, shape;
        public long calls, nanos, flops, bytes;

        Entry(String op, String phase, String shape) { this.op = op; this.phase = phase; this.shape = shape; }
    }

    /** Per op and phase; and, for the products (ops with FLOPs), also per input shapes, to show which shapes are slow. */
    private final Map<String, Entry> entries = new LinkedHashMap<>(), products = new LinkedHashMap<>();
    private final Runnable sync;
    private long last = System.nanoTime();

    private Profile(Runnable sync) { this.sync = sync; }

    /** Starts profiling this thread (kernels that return when done: the CPU's). */
    public static Profile start() { return start(() -> {}); }

    /** Starts profiling this thread; sync waits for the device's queued work (a GPU's synchronize). */
    public static Profile start(Runnable sync) {
        Profile p = new Profile(sync);
        ACTIVE.set(p);
        return p;
    }

    /** The clock after the device's queued work is done. */
    private long now() {
        sync.run();
        return System.nanoTime();
    }

    /** Stops profiling this thread and returns what was measured. */
    public Profile stop() {
        if (ACTIVE.get() == this) ACTIVE.remove();
        return this;
    }

    /** Restarts the op clock: the time since the last op is charged to no op (e.g. making the step's inputs). */
    public static void mark() {
        Profile p = ACTIVE.get();
        if (p != null) p.last = p.now();
    }

    /** Runs work outside the tape as a named section. */
    public static void section(String name, Runnable body) {
        long t0 = clock();
        body.run();
        section(name, t0);
    }

    /** Charges the time since t0 (from {@link #clock}) to a named section: work inside backward that no op owns. */
    static void section(String name, long t0) {
        Profile p = ACTIVE.get();
        if (p == null) return;
        long now = p.now();
        p.add(name, "section", now - t0, 0, 0);
        p.last = now;
    }

    /** {@link #section} for work that returns a value (e.g. a tensor made outside the tape). */
    public static <T> T section(String name, java.util.function.Supplier<T> body) {
        Object[] result = new Object[1];
        section(name, () -> { result[0] = body.get(); });
        @SuppressWarnings("unchecked") T t = (T) result[0];
        return t;
    }

    /** Called by F for every op it runs (after the op's work). */
    static void forward(String op, Tensor y, Var... in) {
        Profile p = ACTIVE.get();
        if (p == null) return;
        long now = p.now();
        p.add(op, "forward", now - p.last, 2 * Trace.macs(op, y, in), bytes(y, in), in);
        p.last = System.nanoTime();           // the bookkeeping (a product's shape string) charged to no op, not to the next
    }

    /** The clock for {@link #backward} and {@link #section}, after the device's queued work: 0 outside a profile. */
    static long clock() {
        Profile p = ACTIVE.get();
        return p == null ? 0 : p.now();
    }

    /** Called by Var.backward after one backward rule, started at t0, of the op that made y from in. */
    static void backward(String op, long t0, Tensor y, Var... in) {
        Profile p = ACTIVE.get();
        if (p == null) return;
        long now = p.now();
        p.add(op, "backward", now - t0, backwardFlops(op, y, in), 2 * bytes(y, in), in);
        p.last = now;
    }

    /**
     * FLOPs of a product's backward rule: one product per operand whose gradient it computes (linear and matmul: dX
     * for x, dW for the weight, each as many multiply-adds as the forward; an operand that needs no gradient, such
     * as the images under the patch embedding, costs nothing, so its backward is not read above the peak), and
     * attention's five (T x T x hd) products per two forward ones, the scores recomputed.
     */
    static long backwardFlops(String op, Tensor y, Var... in) {
        long macs = Trace.macs(op, y, in);
        if (op.equals("attention")) {
            for (Var v : in) if (v != null && v.requiresGrad()) return 5 * macs;
            return 0;
        }
        long n = 0;
        for (int i = 0; i < Math.min(2, in.length); i++) if (in[i] != null && in[i].requiresGrad()) n += 2 * macs;
        return n;
    }

    private static long bytes(Tensor y, Var... in) {
        long n = y.numel();
        for (Var v : in) if (v != null) n += v.value().numel();
        return 4 * n;
    }

    private void add(String op, String phase, long nanos, long flops, long bytes, Var... in) {
        count(entries.computeIfAbsent(op + " " + phase, k -> new Entry(op, phase, "")), nanos, flops, bytes);
        if (flops == 0) return;
        String shape = shapes(in);
        count(products.computeIfAbsent(op + " " + phase + " " + shape, k -> new Entry(op, phase, shape)), nanos, flops, bytes);
    }

    private static void count(Entry e, long nanos, long flops, long bytes) {
        e.calls++;
        e.nanos += nanos;
        e.flops += flops;
        e.bytes += bytes;
    }

    /** The inputs' shapes, e.g. "[128,13,192] [768,192] [768]" for a linear layer's x, weight and bias. */
    private static String shapes(Var... in) {
        StringBuilder s = new StringBuilder();
        for (Var v : in) if (v != null) s.append(s.length() == 0 ? "" : " ").append(mae.tensor.Shapes.str(v.value().shape()));
        return s.toString();
    }

    /** The entries, most time first. */
    public List<Entry> entries() { return sorted(entries); }

    /** The products (linear, matmul, attention) per phase and input shapes, most time first. */
    public List<Entry> products() { return sorted(products); }

    private static List<Entry> sorted(Map<String, Entry> m) {
        List<Entry> l = new ArrayList<>(m.values());
        l.sort(Comparator.comparingLong((Entry e) -> e.nanos).reversed());
        return l;
    }
}
