package mae.optim;

import mae.autograd.Var;
import mae.tensor.Ops;
import mae.tensor.Tensor;
import mae.kernels.Workspace;
import mae.tensor.io.Safetensors.Entry;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW over named parameters (betas 0.9/0.95 by default, decoupled weight decay). As in MAE's
 * param_groups_weight_decay: no decay on 1-D parameters and biases; the 3-D cls and mask tokens do decay.
 */
public final class AdamW {
    public final float beta1, beta2, eps, weightDecay;
    private final LinkedHashMap<String, Var> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
    private long step;

    public AdamW(LinkedHashMap<String, Var> params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = params;
        this.beta1 = beta1; this.beta2 = beta2; this.eps = eps; this.weightDecay = weightDecay;
        params.forEach((name, p) -> {                  // the moments live on the parameter's device
            m.put(name, Tensor.zeros(p.value().device(), p.shape()));
            v.put(name, Tensor.zeros(p.value().device(), p.shape()));
        });
    }

    public static boolean decays(String name, Var p) { return p.dim() > 1 && !name.endsWith(".bias"); }

    /** One update at learning rate lr; parameters without a gradient are left alone. */
    public void step(float lr) { step(lr, null); }

    /** One update with a per-parameter lr multiplier (layer-wise decay); missing names get 1. */
    public void step(float lr, Map<String, Float> lrScale) {
        step++;
        for (Map.Entry<String, Var> e : params.entrySet()) {
            Var p = e.getValue();
            if (p.grad() == null) continue;
            Tensor value = p.value().isContiguous() && p.value().offset() == 0 ? p.value() : Workspace.outside(() -> p.value().copy());
            float plr = lrScale == null ? lr : lr * lrScale.getOrDefault(e.getKey(), 1f);
            Ops.adamw(value, p.grad(), m.get(e.getKey()), v.get(e.getKey()), step, plr, beta1, beta2, eps,
                    decays(e.getKey(), p) ? weightDecay : 0f);
            if (value != p.value()) p.setValue(value);
        }
    }

    public long steps() { return step; }

    /** Moments as safetensors entries (exp_avg.NAME, exp_avg_sq.NAME) for checkpoints (downloaded from a GPU). */
    public LinkedHashMap<String, Entry> state() {
        LinkedHashMap<String, Entry> s = new LinkedHashMap<>();
        m.forEach((k, t) -> s.put("exp_avg." + k, Entry.f32(t.shape(), t.toArray())));
        v.forEach((k, t) -> s.put("exp_avg_sq." + k, Entry.f32(t.shape(), t.toArray())));
        return s;
    }

    /**
     * Restores moments (onto their device) and the step count; every parameter's moments must be present with
     * its shape and finite. Everything is checked before anything changes.
     */
    public void load(Map<String, Entry> s, long steps, String file) {
        if (steps < 0) throw new IllegalArgumentException(file + ": optimizer step count " + steps + " is negative");
        for (String k : params.keySet()) {
            for (String kind : new String[]{"exp_avg.", "exp_avg_sq."}) {
                Entry e = s.get(kind + k);
                Tensor dst = (kind.equals("exp_avg.") ? m : v).get(k);
                if (e == null) throw new IllegalArgumentException(file + ": missing optimizer tensor '" + kind + k + "'");
                if (e.floats() == null) throw new IllegalArgumentException(file + ": optimizer tensor '" + kind + k + "' is " + e.dtype() + ", expected a float type");
                if (!java.util.Arrays.equals(e.shape(), dst.shape()))
                    throw new IllegalArgumentException(file + ": optimizer tensor '" + kind + k + "' has shape " + java.util.Arrays.toString(e.shape()) + ", expected " + java.util.Arrays.toString(dst.shape()));
                float[] x = e.floats();
                for (int i = 0; i < x.length; i++)
                    if (!Float.isFinite(x[i]) || (kind.equals("exp_avg_sq.") && x[i] < 0))
                        throw new IllegalArgumentException(file + ": optimizer tensor '" + kind + k + "' holds " + x[i] + " at index " + i
                                + (kind.equals("exp_avg_sq.") ? " (expected finite, non-negative values)" : " (expected finite values)"));
            }
        }
        for (String k : params.keySet()) {                       // all checked above: only now is anything changed
            m.get(k).copyFrom(Tensor.of(s.get("exp_avg." + k).floats(), m.get(k).shape()));
            v.get(k).copyFrom(Tensor.of(s.get("exp_avg_sq." + k).floats(), v.get(k).shape()));
        }
        step = steps;
    }
}
