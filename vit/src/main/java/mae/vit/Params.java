package mae.vit;

import mae.autograd.Var;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Shapes;
import mae.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's parameters under their official names (e.g. {@code blocks.0.attn.qkv.weight}), in creation
 * order. Frozen ones (the sin-cos position embeddings) are stored and loaded but never trained.
 */
public final class Params {
    private final LinkedHashMap<String, Var> all = new LinkedHashMap<>();
    private final List<String> frozen = new ArrayList<>();

    /** Registers a trainable parameter. */
    public Var add(String name, Tensor value) {
        if (all.containsKey(name)) throw new IllegalArgumentException("parameter " + name + " registered twice");
        Var v = Var.param(value).named(name);
        all.put(name, v);
        return v;
    }

    /** Registers a frozen (not trained, not in the gradients) parameter. */
    public Var addFrozen(String name, Tensor value) {
        if (all.containsKey(name)) throw new IllegalArgumentException("parameter " + name + " registered twice");
        Var v = Var.constant(value).named(name);
        all.put(name, v);
        frozen.add(name);
        return v;
    }

    public Var get(String name) {
        Var v = all.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter named " + name);
        return v;
    }

    public boolean has(String name) { return all.containsKey(name); }
    public boolean isFrozen(String name) { return frozen.contains(name); }
    public Map<String, Var> all() { return Collections.unmodifiableMap(all); }

    /** Trainable parameters in order. */
    public LinkedHashMap<String, Var> trainable() {
        LinkedHashMap<String, Var> t = new LinkedHashMap<>();
        all.forEach((k, v) -> { if (!frozen.contains(k)) t.put(k, v); });
        return t;
    }

    public long count() {
        long n = 0;
        for (Var v : trainable().values()) n += v.value().numel();
        return n;
    }

    public void zeroGrad() { for (Var v : all.values()) v.zeroGrad(); }

    /** Moves every parameter (frozen ones included) to a device; their gradients start over there. */
    public Params to(Device device) {
        for (Var v : all.values()) v.setValue(v.value().to(device));
        return this;
    }

    /** Sets every parameter to a copy of the same-named one of another model (same names and shapes, any devices). */
    public void copyFrom(Params other) {
        for (Map.Entry<String, Var> e : all.entrySet()) {
            Tensor src = other.get(e.getKey()).value();
            Device here = e.getValue().value().device();
            e.getValue().setValue(src.device() == here ? src.copy() : src.to(here));
        }
    }

    /** Assigns a value by name, checking the shape (the error names the parameter and both shapes). */
    public void set(String name, Tensor value) {
        Var v = get(name);
        if (!Arrays.equals(v.shape(), value.shape()))
            throw new IllegalArgumentException("parameter " + name + ": expected shape " + Shapes.str(v.shape()) + ", got " + Shapes.str(value.shape()));
        v.setValue(value);
    }

    // ---------------------------------------------------------------- initializers (the paper's)

    /**
     * Xavier-uniform for a (out, in) weight: U(-a, a), a = sqrt(6 / (in + out)). With a null generator, a
     * {@link #placeholder} of that shape: the model is built to be loaded, and every weight will be replaced.
     */
    public static Tensor xavierUniform(Rng rng, int out, int in) {
        if (rng == null) return placeholder(out, in);
        float a = (float) Math.sqrt(6.0 / (in + out));
        return Tensor.rand(rng, out, in).mul(2 * a).sub(a);
    }

    /** N(0, std^2) values; zeros with a null generator (a model built to be loaded). */
    public static Tensor normal(Rng rng, float std, int... shape) { return rng == null ? Tensor.zeros(shape) : Tensor.randn(rng, shape).mul(std); }

    /**
     * A stand-in of the given shape that holds one zero seen through stride-0 views: no memory and no random
     * draws for a weight that a checkpoint is about to replace (a ViT-L's 300 M values would otherwise be drawn
     * and allocated only to be thrown away). Not usable in computation: every placeholder must be assigned
     * before the model runs, which {@code Weights.assign} checks by requiring every parameter from the file.
     */
    public static Tensor placeholder(int... shape) {
        int[] ones = new int[shape.length];
        java.util.Arrays.fill(ones, 1);
        return Tensor.of(new float[1], ones).expand(shape);
    }
}
