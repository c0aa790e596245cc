package mae.tensor;

import mae.kernels.AdamW;
import mae.kernels.Attention;
import mae.kernels.Gelu;
import mae.kernels.LayerNorm;
import mae.kernels.Softmax;

import java.util.Arrays;

/**
 * The fused neural-network ops on tensors, forward beside backward. Backward functions return new gradient
 * tensors; the autograd layer wires them. Each runs on the GPU ({@link CudaOps}) when its inputs are CUDA tensors.
 */
public final class Ops {
    private Ops() {}

    /** The values as a row-major array from index 0: the backing array itself when possible, else a copy. */
    static float[] buf(Tensor t) { return t.isContiguous() && t.offset() == 0 ? t.data() : t.toArray(); }

    /** Whether any of the tensors (nulls skipped) is on CUDA: the op then runs there (and all must be). */
    private static boolean cuda(Tensor... ts) {
        for (Tensor t : ts) if (t != null && t.cuda != null) return true;
        return false;
    }

    private static void requireShape(String op, String what, Tensor t, int... shape) {
        if (!Arrays.equals(t.shape(), shape))
            throw new IllegalArgumentException(op + ": " + what + " has shape " + Shapes.str(t.shape()) + ", expected " + Shapes.str(shape));
    }

    // ---------------------------------------------------------------- linear

    /** x (rows, in) W^T + b with W (out, in), b (out) or null: one GEMM whose C starts as the bias rows. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        if (cuda(x, w, b)) return CudaOps.linear(x, w, b);
        int rows = x.size(0), in = x.size(1), out = w.size(0);
        float[] y = Workspace.floats(rows * out);
        if (b != null) {
            float[] bv = buf(b);
            for (int r = 0; r < rows; r++) System.arraycopy(bv, 0, y, r * out, out);
        }
        Tensor xc = x.contiguous(), wc = w.contiguous();
        mae.kernels.Gemm.gemm(false, true, rows, out, in, 1f, xc.data(), xc.offset(), in, wc.data(), wc.offset(), in,
                b == null ? 0f : 1f, y, 0, out);
        return Tensor.of(y, rows, out);
    }

    // ---------------------------------------------------------------- layer norm

    /** out, and the per-row mean and rstd (rows = all leading dims) saved for backward. */
    public record LayerNormOut(Tensor out, Tensor mean, Tensor rstd) {}

    /** Layer norm over the last dim: x (..., C), w (C), b (C). */
    public static LayerNormOut layerNorm(Tensor x, Tensor w, Tensor b, float eps) {
        int C = x.size(-1), rows = x.numel() / Math.max(1, C);
        requireShape("layerNorm", "weight", w, C);
        requireShape("layerNorm", "bias", b, C);
        if (cuda(x, w, b)) return CudaOps.layerNorm(x, w, b, eps, rows, C);
        float[] out = Workspace.floats(x.numel()), mean = Workspace.floats(rows), rstd = Workspace.floats(rows);
        LayerNorm.forward(out, mean, rstd, buf(x), buf(w), buf(b), rows, C, eps);
        return new LayerNormOut(Tensor.of(out, x.shape()), Tensor.of(mean, rows), Tensor.of(rstd, rows));
    }

    /** dx, dw, db of layer norm. */
    public static Tensor[] layerNormBackward(Tensor dout, Tensor x, Tensor w, Tensor mean, Tensor rstd) {
        int C = x.size(-1), rows = x.numel() / Math.max(1, C);
        if (cuda(dout, x, w, mean, rstd)) return CudaOps.layerNormBackward(dout, x, w, mean, rstd, rows, C);
        float[] dx = Workspace.floats(x.numel()), dw = Workspace.floats(C), db = Workspace.floats(C);
        LayerNorm.backward(dx, dw, db, buf(dout), buf(x), buf(w), buf(mean), buf(rstd), rows, C);
        return new Tensor[]{Tensor.of(dx, x.shape()), Tensor.of(dw, C), Tensor.of(db, C)};
    }

    // ---------------------------------------------------------------- GELU

    public static Tensor gelu(Tensor x) {
        if (cuda(x)) return CudaOps.gelu(x);
        float[] out = Workspace.floats(x.numel());
        Gelu.forward(out, buf(x), out.length);
        return Tensor.of(out, x.shape());
    }

    public static Tensor geluBackward(Tensor dout, Tensor x) {
        if (cuda(dout, x)) return CudaOps.geluBackward(dout, x);
        float[] dx = Workspace.floats(x.numel());
        Gelu.backward(dx, buf(dout), buf(x), dx.length);
        return Tensor.of(dx, x.shape());
    }

    // ---------------------------------------------------------------- softmax (last dim)

    /** dx given dy and the forward output y. */
    public static Tensor softmaxBackward(Tensor dy, Tensor y) {
        int cols = y.size(-1);
        if (cuda(dy, y)) return CudaOps.softmaxBackward(dy, y, y.numel() / Math.max(1, cols), cols);
        float[] dx = Workspace.floats(y.numel());
        Softmax.backward(dx, buf(dy), buf(y), y.numel() / Math.max(1, cols), cols);
        return Tensor.of(dx, y.shape());
    }

    // ---------------------------------------------------------------- attention

    /** out (B, H, T, hd) and lse (B, H, T), the row log-sum-exp saved for backward. */
    public record AttentionOut(Tensor out, Tensor lse) {}

    /** softmax(q k^T * scale) v over q, k, v of shape (B, H, T, hd). */
    public static AttentionOut attention(Tensor q, Tensor k, Tensor v, float scale) {
        int[] s = q.shape();
        if (s.length != 4) throw new IllegalArgumentException("attention: q must be (B, H, T, hd), got " + Shapes.str(s));
        requireShape("attention", "k", k, s);
        requireShape("attention", "v", v, s);
        if (cuda(q, k, v)) return CudaOps.attention(q, k, v, scale);
        int BH = s[0] * s[1], T = s[2], hd = s[3];
        float[] out = Workspace.floats(q.numel()), lse = Workspace.floats(BH * T);
        Attention.forward(out, lse, buf(q), buf(k), buf(v), BH, T, hd, scale);
        return new AttentionOut(Tensor.of(out, s), Tensor.of(lse, s[0], s[1], T));
    }

    /** dq, dk, dv. */
    public static Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale) {
        int[] s = q.shape();
        if (cuda(dout, q, k, v, out, lse)) return CudaOps.attentionBackward(dout, q, k, v, out, lse, scale);
        int BH = s[0] * s[1], T = s[2], hd = s[3];
        float[] dq = Workspace.floats(q.numel()), dk = Workspace.floats(q.numel()), dv = Workspace.floats(q.numel());
        Attention.backward(dq, dk, dv, buf(dout), buf(q), buf(k), buf(v), buf(out), buf(lse), BH, T, hd, scale);
        return new Tensor[]{Tensor.of(dq, s), Tensor.of(dk, s), Tensor.of(dv, s)};
    }

    // ---------------------------------------------------------------- AdamW

    /** One AdamW step in place on contiguous p, m, v with gradient g (all the same shape). */
    public static void adamw(Tensor p, Tensor g, Tensor m, Tensor v, long t, float lr, float beta1, float beta2, float eps, float wd) {
        requireShape("adamw", "grad", g, p.shape());
        if (!p.isContiguous() || !m.isContiguous() || !v.isContiguous() || p.offset() != 0 || m.offset() != 0 || v.offset() != 0)
            throw new IllegalArgumentException("adamw: parameter and moments must be contiguous, unshared tensors");
        if (cuda(p, g, m, v)) { CudaOps.adamw(p, g, m, v, t, lr, beta1, beta2, eps, wd); return; }
        AdamW.step(p.data(), buf(g), m.data(), v.data(), 0, p.numel(), t, lr, beta1, beta2, eps, wd);
    }
}
