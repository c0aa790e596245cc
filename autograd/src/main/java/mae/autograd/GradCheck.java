package mae.autograd;

import mae.tensor.Rng;
import mae.tensor.Shapes;
import mae.tensor.Tensor;

import java.util.function.Function;

/**
 * Central-difference gradient check of an op against its backward rule, in float32, made tight by three
 * choices (instead of a float64 path):
 * <ol>
 *   <li>The scalar checked is L = sum(f(x) * R) with fixed random weights R, accumulated in double, so every
 *       output element and every backward path matters and the sum adds no float32 rounding of its own.</li>
 *   <li>Inputs are snapped to multiples of 2^-12 (|x| &lt; 16) and stepped by h = 2^-7, so x +- h and x +- 2h
 *       are exact floats: the step taken is exactly the step assumed.</li>
 *   <li>The fourth-order stencil (8 (L(x+h) - L(x-h)) - (L(x+2h) - L(x-2h))) / 12h has truncation error
 *       O(h^4) ~ 4e-9 times the fifth derivative, so what remains is the float32 rounding of f's outputs,
 *       about 6e-8 |L| / h ~ 1e-5 relative.</li>
 * </ol>
 * The check runs the kernels in reference mode ({@link mae.kernels.KernelMode}: plain loops accumulating in
 * double), so it tests the backward rules themselves; the fast kernels are tested against those references
 * on their own.
 * <p>The default tolerance, 1e-3 relative to the larger of |analytic| and 1% of the largest gradient entry, is
 * two orders above that noise and far below any wrong rule (a missing factor, a wrong sign or a dropped term
 * moves entries by O(1) relative).
 */
public final class GradCheck {
    private GradCheck() {}

    public static final float H = 1f / 128;
    public static final double DEFAULT_TOL = 1e-3;

    /** The worst disagreement found, and where. */
    public record Result(double maxError, int input, int element, double analytic, double numeric) {
        public boolean ok(double tol) { return maxError <= tol; }
        @Override public String toString() {
            return String.format("max error %.3g at input %d element %d: analytic %.6g, numeric %.6g", maxError, input, element, analytic, numeric);
        }
    }

    /** Snaps values to multiples of 2^-12 so that steps of H are exact (see the class comment). */
    public static Tensor snap(Tensor t) {
        float[] v = t.toArray();
        for (int i = 0; i < v.length; i++) {
            if (Math.abs(v[i]) >= 16) throw new IllegalArgumentException("GradCheck: input value " + v[i] + " too large to step exactly");
            v[i] = Math.round(v[i] * 4096f) / 4096f;
        }
        return Tensor.of(v, t.shape());
    }

    /** Checks f at inputs (all differentiated); returns the worst relative error. */
    public static Result check(Function<Var[], Var> f, Tensor... inputs) {
        boolean was = mae.kernels.KernelMode.setReference(true);
        try {
            return checkInMode(f, inputs);
        } finally {
            mae.kernels.KernelMode.setReference(was);
        }
    }

    private static Result checkInMode(Function<Var[], Var> f, Tensor... inputs) {
        Tensor[] xs = new Tensor[inputs.length];
        for (int i = 0; i < xs.length; i++) xs[i] = snap(inputs[i]);
        Var[] vars = new Var[xs.length];
        for (int i = 0; i < xs.length; i++) vars[i] = Var.param(xs[i].copy());
        Var out = f.apply(vars);
        Tensor R = Tensor.randn(new Rng(1234), out.shape());
        out.backward(R);
        Tensor[] analytic = new Tensor[xs.length];
        double gmax = 0;
        for (int i = 0; i < xs.length; i++) {
            analytic[i] = vars[i].grad() == null ? Tensor.zeros(xs[i].shape()) : vars[i].grad();
            for (float a : analytic[i].toArray()) gmax = Math.max(gmax, Math.abs(a));
        }
        Result worst = new Result(0, -1, -1, 0, 0);
        for (int i = 0; i < xs.length; i++) {
            float[] a = analytic[i].toArray();
            for (int e = 0; e < a.length; e++) {
                double num = numeric(f, xs, i, e, R);
                double err = Math.abs(num - a[e]) / Math.max(Math.max(Math.abs(a[e]), Math.abs(num)), 1e-2 * gmax + 1e-12);
                if (err > worst.maxError()) worst = new Result(err, i, e, a[e], num);
            }
        }
        return worst;
    }

    /** Throws with a clear message unless the check passes at the default tolerance. */
    public static void assertOk(String op, Function<Var[], Var> f, Tensor... inputs) {
        Result r = check(f, inputs);
        if (!r.ok(DEFAULT_TOL)) {
            StringBuilder shapes = new StringBuilder();
            for (Tensor t : inputs) shapes.append(Shapes.str(t.shape())).append(' ');
            throw new AssertionError("gradient check of " + op + " on " + shapes.toString().trim() + " failed: " + r);
        }
    }

    private static double numeric(Function<Var[], Var> f, Tensor[] xs, int which, int elem, Tensor R) {
        double[] l = new double[4];
        float[] steps = {H, -H, 2 * H, -2 * H};
        for (int s = 0; s < 4; s++) {
            Var[] vs = new Var[xs.length];
            for (int i = 0; i < xs.length; i++) {
                Tensor t = xs[i];
                if (i == which) {
                    float[] v = t.toArray();
                    v[elem] += steps[s];
                    t = Tensor.of(v, t.shape());
                }
                vs[i] = Var.constant(t);
            }
            Tensor y;
            try (Grad.Scope g = Grad.off()) { y = f.apply(vs).value(); }
            float[] yv = y.toArray(), r = R.toArray();
            double acc = 0;
            for (int k = 0; k < yv.length; k++) acc += (double) yv[k] * r[k];
            l[s] = acc;
        }
        return (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12.0 * H);
    }
}
