package mae.kernels;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A pool of tensor buffers for a repeated computation such as the training step. While a workspace is open on
 * a thread, every tensor that thread creates takes its buffer from the pool (by exact length, zeroed); closing
 * the workspace hands all of them back. The same step then runs on the same buffers every time, so after the
 * first step it allocates no new large arrays:
 *
 * <pre>
 *   Workspace ws = new Workspace();
 *   for (...) try (Workspace.Scope s = ws.open()) { forward, backward, optimizer step, zeroGrad }
 * </pre>
 *
 * Nothing made inside a scope may be used after it closes (parameters and optimizer moments are made
 * outside; {@link #outside} makes a tensor that must outlive the scope). With {@code -Dmae.workspace.poison=true}
 * (the tests set it) released buffers are filled with NaN, so a tensor used after its scope closed shows up as
 * a NaN instead of silently reading another step's values.
 */
public final class Workspace {
    /** Buffers shorter than this come from the JVM: pooling them would cost more than it saves. */
    public static final int MIN_POOLED = 512;
    private static final boolean POISON = Boolean.getBoolean("mae.workspace.poison");
    private static final ThreadLocal<Workspace> CURRENT = new ThreadLocal<>();

    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private final List<float[]> lent = new ArrayList<>();
    private final List<Runnable> onClose = new ArrayList<>();
    private long created, reused, createdBytes;

    /** Opens the workspace on this thread; close the scope to return its buffers. Scopes do not nest. */
    public Scope open() {
        if (CURRENT.get() != null) throw new IllegalStateException("Workspace.open: a workspace is already open on this thread");
        CURRENT.set(this);
        return new Scope(this);
    }

    /** An open workspace; closing it returns every buffer handed out since it opened. */
    public static final class Scope implements AutoCloseable {
        private final Workspace ws;
        private boolean closed;
        private Scope(Workspace ws) { this.ws = ws; }
        @Override public void close() {
            if (closed) return;
            closed = true;
            CURRENT.remove();
            ws.releaseAll();
        }
    }

    private void releaseAll() {
        for (int i = lent.size() - 1; i >= 0; i--) {      // pushed last-first: the next run gets them in the same order
            float[] b = lent.get(i);
            if (POISON) Arrays.fill(b, Float.NaN);
            free.computeIfAbsent(b.length, k -> new ArrayDeque<>()).push(b);
        }
        lent.clear();
        for (Runnable r : onClose) r.run();
        onClose.clear();
    }

    private float[] take(int n, boolean zeroed) {
        ArrayDeque<float[]> q = free.get(n);
        float[] b = q == null ? null : q.poll();
        if (b == null) {
            b = new float[n];
            created++;
            createdBytes += 4L * n;
        } else {
            if (zeroed) Arrays.fill(b, 0f);        // an output written whole skips this pass (poisoned tests show one that is not)
            reused++;
        }
        lent.add(b);
        return b;
    }

    /** A zeroed buffer of n floats: from the open workspace when there is one on this thread, else new. */
    public static float[] floats(int n) { return floats(n, true); }

    /**
     * A buffer of n floats from the open workspace when there is one on this thread, else new (zeroed). A reused
     * buffer is zeroed only when asked: an op's output that the op writes whole needs no clearing pass first.
     */
    public static float[] floats(int n, boolean zeroed) {
        Workspace ws = n >= MIN_POOLED ? CURRENT.get() : null;
        return ws == null ? new float[n] : ws.take(n, zeroed);
    }

    /** Runs r when the open workspace on this thread closes (e.g. to return device memory); false when none is open. */
    public static boolean atClose(Runnable r) {
        Workspace ws = CURRENT.get();
        if (ws == null) return false;
        ws.onClose.add(r);
        return true;
    }

    /**
     * The scope open on this thread keeps given, of the same length, in place of taken, which it lent: taken then
     * outlives the scope and given goes back to the pool when it closes. False, and nothing changed, when no scope
     * is open, the lengths differ, or taken is not lent by it (made outside, or already exchanged).
     */
    public static boolean exchange(float[] taken, float[] given) {
        Workspace ws = CURRENT.get();
        if (ws == null || taken == given || taken.length != given.length) return false;
        for (int i = ws.lent.size() - 1; i >= 0; i--)      // newest first: a gradient was lent a moment ago
            if (ws.lent.get(i) == taken) { ws.lent.set(i, given); return true; }
        return false;
    }

    /** Whether a workspace is open on this thread. */
    public static boolean isOpen() { return CURRENT.get() != null; }

    /** Makes something (e.g. a new parameter value) that must outlive the open scope: runs with no workspace. */
    public static <T> T outside(Supplier<T> make) {
        Workspace ws = CURRENT.get();
        CURRENT.remove();
        try {
            return make.get();
        } finally {
            if (ws != null) CURRENT.set(ws);
        }
    }

    /** Pooled buffers made so far (each made once, then reused), reuses, and the bytes made. */
    public record Stats(long created, long reused, long createdBytes) {}

    public Stats stats() { return new Stats(created, reused, createdBytes); }
}
