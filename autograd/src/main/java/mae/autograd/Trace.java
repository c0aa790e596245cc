package mae.autograd;

import mae.tensor.Shapes;
import mae.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A per-thread record of the ops a forward pass runs: every op that goes through {@link F} (grad on or off)
 * lands in the current stage with its input and output shapes and its multiply-adds. Models mark their steps
 * with {@link #stage}; outside a trace the markers cost one thread-local read.
 * <pre>
 *   Trace t = Trace.start();
 *   try { model.forward(...); } finally { t.stop(); }
 *   for (Trace.Stage s : t.stages()) ... s.name(), s.shape(), s.macs()
 * </pre>
 * Multiply-adds are counted for the matrix products (linear, matmul, attention: q k^T and p v); elementwise
 * ops, norms and softmax count 0.
 */
public final class Trace {
    private static final ThreadLocal<Trace> ACTIVE = new ThreadLocal<>();

    /** One op: its name, input shapes (null for a null input such as a missing bias), output shape, multiply-adds. */
    public record Op(String name, List<int[]> inputs, int[] output, long macs) {
        @Override public String toString() {
            StringBuilder sb = new StringBuilder(name).append(' ');
            for (int i = 0; i < inputs.size(); i++) sb.append(i > 0 ? ", " : "").append(inputs.get(i) == null ? "-" : Shapes.str(inputs.get(i)));
            return sb.append(" -> ").append(Shapes.str(output)).toString();
        }
    }

    /** A named step of the model and the ops it ran; its output is that of its last op. */
    public static final class Stage {
        private final String name, meaning;
        private final List<Op> ops = new ArrayList<>();
        private Tensor output;

        Stage(String name, String meaning) { this.name = name; this.meaning = meaning; }

        public String name() { return name; }
        public String meaning() { return meaning; }
        public List<Op> ops() { return Collections.unmodifiableList(ops); }
        /** The value of the stage's last op (null when it ran none). */
        public Tensor output() { return output; }
        /** The shape of that value (null when the stage ran no op). */
        public int[] shape() { return output == null ? null : output.shape(); }

        public long macs() {
            long n = 0;
            for (Op o : ops) n += o.macs();
            return n;
        }
    }

    private final List<Stage> stages = new ArrayList<>();
    private final Trace outer;
    private boolean stopped;

    private Trace(Trace outer) { this.outer = outer; }

    /** Starts recording on this thread (a trace started inside another one records alone until stopped). */
    public static Trace start() {
        Trace t = new Trace(ACTIVE.get());
        ACTIVE.set(t);
        return t;
    }

    /** Stops recording and returns this trace (the outer one, if any, records again). */
    public Trace stop() {
        if (!stopped && ACTIVE.get() == this) {
            if (outer == null) ACTIVE.remove(); else ACTIVE.set(outer);
        }
        stopped = true;
        return this;
    }

    public static boolean active() { return ACTIVE.get() != null; }

    public List<Stage> stages() { return Collections.unmodifiableList(stages); }

    /** The first stage of that name, or null. */
    public Stage stage(String name) {
        for (Stage s : stages) if (s.name.equals(name)) return s;
        return null;
    }

    public long macs() {
        long n = 0;
        for (Stage s : stages) n += s.macs();
        return n;
    }

    /** Marks the start of a model step: the ops that follow belong to it. */
    public static void stage(String name, String meaning) {
        Trace t = ACTIVE.get();
        if (t != null) t.stages.add(new Stage(name, meaning));
    }

    /** A numbered step ("encoder block 3"); the name is built only while tracing. */
    public static void stage(String name, int index, String meaning) {
        if (ACTIVE.get() != null) stage(name + " " + index, meaning);
    }

    /** Called by F for every op it runs. */
    static void op(String name, Tensor y, Var... inputs) {
        Trace t = ACTIVE.get();
        if (t == null) return;
        if (t.stages.isEmpty()) t.stages.add(new Stage("(before the first stage)", ""));
        Stage s = t.stages.get(t.stages.size() - 1);
        List<int[]> shapes = new ArrayList<>(inputs.length);
        for (Var v : inputs) shapes.add(v == null ? null : v.shape());
        s.ops.add(new Op(name, shapes, y.shape(), macs(name, y, inputs)));
        s.output = y;
    }

    /** Multiply-adds of the matrix products; 0 for everything else. */
    static long macs(String name, Tensor y, Var... in) {
        switch (name) {
            case "linear":
            case "matmul":   // (..., M, K) x (..., K, N): each output element is a K-long dot product
                return (long) y.numel() * in[0].size(-1);
            case "attention":   // out (B, H, T, hd) of self-attention: q k^T and p v, T x T x hd each per head
                return 2L * y.numel() * y.size(2);
            default:
                return 0;
        }
    }
}
