package mae.autograd;

import mae.tensor.Shapes;
import mae.tensor.Tensor;
import mae.kernels.Workspace;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tensor on the autograd tape: its value, its gradient (after backward), and the node that made it.
 * Leaves that require grad accumulate into {@link #grad()}; intermediate gradients are dropped as soon as
 * backward has used them, and every node releases its saved tensors once it has run.
 */
public final class Var {
    private Tensor value;
    private Tensor grad;
    private Tensor gradBuffer; // a leaf's gradient storage, kept across zeroGrad
    private final boolean requiresGrad;
    Node node;           // null for leaves and constants
    private String name; // optional, for messages

    Var(Tensor value, boolean requiresGrad, Node node) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A leaf that requires grad (a parameter or an input under test). */
    public static Var param(Tensor value) { return new Var(value, true, null); }

    /** A leaf that needs no gradient. */
    public static Var constant(Tensor value) { return new Var(value, false, null); }

    public Tensor value() { return value; }
    /**
     * The accumulated gradient, or null before any backward reached this leaf. A leaf's gradient buffer is
     * reused after {@link #zeroGrad}: copy it to keep it past the next backward.
     */
    public Tensor grad() { return grad; }
    public boolean requiresGrad() { return requiresGrad; }
    public boolean isLeaf() { return node == null; }
    public int[] shape() { return value.shape(); }
    public int size(int d) { return value.size(d); }
    public int dim() { return value.dim(); }
    public String name() { return name; }
    public Var named(String n) { name = n; return this; }

    /**
     * Replaces the value of a leaf (e.g. loading weights, or moving it to another device); the shape must not
     * change. A move to another device drops the gradient and its buffer, which lived on the old one.
     */
    public void setValue(Tensor v) {
        if (!isLeaf()) throw new IllegalStateException("setValue: only leaves can be assigned");
        if (!Arrays.equals(v.shape(), value.shape()))
            throw new IllegalArgumentException("setValue" + (name == null ? "" : " of " + name) + ": shape " + Shapes.str(v.shape()) + " differs from " + Shapes.str(value.shape()));
        if (v.device() != value.device()) { grad = null; gradBuffer = null; }
        value = v;
    }

    /** Forgets the gradient; a leaf keeps its buffer and reuses it for the next one. */
    public void zeroGrad() { grad = null; }

    /** The same value, cut from the tape. */
    public Var detach() { return constant(value); }

    /** Backpropagates from a one-element output (gradient 1). */
    public void backward() {
        if (value.numel() != 1)
            throw new IllegalStateException("backward: output of shape " + Shapes.str(value.shape()) + " is not a scalar; pass its gradient");
        backward(Tensor.full(value.device(), 1f, value.shape()));
    }

    /** Backpropagates a given gradient of this output through the tape. */
    public void backward(Tensor gradOutput) {
        if (!Arrays.equals(gradOutput.shape(), value.shape()))
            throw new IllegalArgumentException("backward: gradient shape " + Shapes.str(gradOutput.shape()) + " differs from output shape " + Shapes.str(value.shape()));
        if (!requiresGrad) throw new IllegalStateException("backward: output does not require grad (made under no-grad, or from constants only)");
        List<Var> order = topoOrder(this);
        Map<Var, Tensor> pending = new IdentityHashMap<>();
        pending.put(this, gradOutput);
        for (int i = order.size() - 1; i >= 0; i--) {
            Var v = order.get(i);
            Tensor g = pending.remove(v);
            if (g == null) continue;
            if (v.node == null) {                            // a leaf: its gradient added to (or copied into) its buffer
                long t0 = Profile.clock();
                v.accumulate(g, pending);
                Profile.section("leaf gradients", t0);
                continue;
            }
            Node n = v.node;
            long t0 = Profile.clock();
            Tensor[] gs = n.backward.apply(g);
            Profile.backward(n.op, t0, v.value, n.inputs);
            for (int j = 0; j < n.inputs.length; j++) {
                Var in = n.inputs[j];
                if (in == null || !in.requiresGrad || gs[j] == null) continue;
                checkGradShape(n, in, gs[j]);
                Tensor prev = pending.get(in);
                pending.put(in, prev == null ? gs[j] : owned(prev).addInPlace(gs[j]));
            }
            n.release();
            v.node = null; // the tape below this var is consumed: it is now a constant
        }
    }

    private static Tensor owned(Tensor t) { return t.isContiguous() && t.offset() == 0 ? t : t.copy(); }

    /**
     * Adds g to this leaf's gradient. The gradient lives in a buffer of its own, made once outside any open
     * {@link Workspace}, on the value's device, so it survives the scope of one micro-batch and costs no
     * allocation afterwards. The first gradient of a backward pass is not copied there where the backend can
     * exchange the buffers ({@link Tensor#exchangeFor}): g, made in the open scope, becomes the buffer, and the old
     * buffer goes back to the scope in its place, unless another gradient still pending shares g's storage (the two
     * inputs of an add receive one tensor), which will be added to. ViT-B's 252 leaves (batch 8, 2 threads, Zen 4 VM,
     * `bin/mae bench step --profile`, its "leaf gradients" section): 45.5 ms per step copying, 1.4 ms exchanging.
     */
    private void accumulate(Tensor g, Map<Var, Tensor> pending) {
        if (!requiresGrad) return;
        if (grad != null) { grad.addInPlace(g); return; }
        if (gradBuffer == null) gradBuffer = Workspace.outside(() -> Tensor.zeros(value.device(), value.shape()));
        Tensor taken = sharedWithPending(g, pending) ? null : gradBuffer.exchangeFor(g);
        if (taken != null) grad = gradBuffer = taken;
        else grad = gradBuffer.copyFrom(g);
    }

    private static boolean sharedWithPending(Tensor g, Map<Var, Tensor> pending) {
        for (Tensor t : pending.values()) if (t.sharesStorage(g)) return true;
        return false;
    }

    private static void checkGradShape(Node n, Var in, Tensor g) {
        if (!Arrays.equals(g.shape(), in.value.shape()))
            throw new IllegalStateException("backward of " + n.op + ": gradient shape " + Shapes.str(g.shape()) + " differs from input shape " + Shapes.str(in.value.shape()));
    }

    /** Vars reachable from root, in an order where every var comes after its inputs. */
    private static List<Var> topoOrder(Var root) {
        List<Var> order = new ArrayList<>();
        Map<Var, Boolean> seen = new IdentityHashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[]{root, 0});
        seen.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Var v = (Var) top[0];
            int next = (Integer) top[1];
            Var[] ins = v.node == null ? new Var[0] : v.node.inputs;
            while (next < ins.length && (ins[next] == null || !ins[next].requiresGrad || seen.containsKey(ins[next]))) next++;
            if (next < ins.length) {
                top[1] = next + 1;
                seen.put(ins[next], Boolean.TRUE);
                stack.push(new Object[]{ins[next], 0});
            } else {
                stack.pop();
                order.add(v);
            }
        }
        return order;
    }

    @Override public String toString() {
        return "Var" + (name == null ? "" : "(" + name + ")") + Shapes.str(value.shape()) + (requiresGrad ? " requires grad" : "");
    }
}
