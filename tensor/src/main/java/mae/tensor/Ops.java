package mae.tensor;

import mae.kernels.Backend;

import java.util.Arrays;

/**
 * The fused neural-network ops on tensors, forward beside backward. Each checks shapes and hands the raw work
 * to the backend of its inputs (mae.kernels.Backend), the same code for every device. Backward functions return
 * new gradient tensors; the autograd layer wires them.
 */
public final class Ops {
    private Ops() {}

    private static void requireShape(String op, String what, Tensor t, int... shape) {
        if (!Arrays.equals(t.shape(), shape))
            throw new IllegalArgumentException(op + ": " + what + " has shape " + Shapes.str(t.shape()) + ", expected " + Shapes.str(shape));
    }

    /** A new contiguous output of the backend, written whole by the op. */
    private static Tensor out(Backend b, int... shape) { return Tensor.empty(b, false, shape); }

    /** A new zeroed output, for the backward ops that add into their gradients (not GELU's, nor layer norm's dx). */
    private static Tensor grad(Backend b, int... shape) { return Tensor.empty(b, true, shape); }

    // ---------------------------------------------------------------- linear

    /** x (rows, in) W^T + b with W (out, in), b (out) or null: one GEMM whose C starts as the bias rows. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Backend be = Tensor.backend("linear", x, w, b);
        int rows = x.size(0), in = x.size(1), out = w.size(0);
        Tensor y = out(be, rows, out);
        be.linear(y.storage, x.buf(), w.buf(), b == null ? null : b.buf(), rows, in, out);
        return y;
    }

    // ---------------------------------------------------------------- layer norm

    /** out, and the per-row mean and rstd (rows = all leading dims) saved for backward. */
    public record LayerNormOut(Tensor out, Tensor mean, Tensor rstd) {}

    /** Layer norm over the last dim: x (..., C), w (C), b (C). */
    public static LayerNormOut layerNorm(Tensor x, Tensor w, Tensor b, float eps) {
        int C = x.size(-1), rows = x.numel() / Math.max(1, C);
        requireShape("layerNorm", "weight", w, C);
        requireShape("layerNorm", "bias", b, C);
        Backend be = Tensor.backend("layerNorm", x, w, b);
        Tensor out = out(be, x.shape), mean = out(be, rows), rstd = out(be, rows);
        be.layerNorm(out.storage, mean.storage, rstd.storage, x.buf(), w.buf(), b.buf(), rows, C, eps);
        return new LayerNormOut(out, mean, rstd);
    }

    /** dx, dw, db of layer norm. */
    public static Tensor[] layerNormBackward(Tensor dout, Tensor x, Tensor w, Tensor mean, Tensor rstd) {
        int C = x.size(-1), rows = x.numel() / Math.max(1, C);
        Backend be = Tensor.backend("layerNormBackward", dout, x, w, mean, rstd);
        Tensor dx = out(be, x.shape), dw = grad(be, C), db = grad(be, C);      // dx written whole, dw and db added to
        be.layerNormBackward(dx.storage, dw.storage, db.storage, dout.buf(), x.buf(), w.buf(), mean.buf(), rstd.buf(), rows, C);
        return new Tensor[]{dx, dw, db};
    }

    // ---------------------------------------------------------------- GELU

    public static Tensor gelu(Tensor x) {
        Tensor out = out(x.backend(), x.shape);
        x.backend().gelu(out.storage, x.buf(), x.numel());
        return out;
    }

    public static Tensor geluBackward(Tensor dout, Tensor x) {
        Backend be = Tensor.backend("geluBackward", dout, x);
        Tensor dx = out(be, x.shape);                                           // written whole: no zeroing pass
        be.geluBackward(dx.storage, dout.buf(), x.buf(), x.numel());
        return dx;
    }

    // ---------------------------------------------------------------- softmax (last dim)

    /** dx given dy and the forward output y. */
    public static Tensor softmaxBackward(Tensor dy, Tensor y) {
        int cols = y.size(-1);
        Backend be = Tensor.backend("softmaxBackward", dy, y);
        Tensor dx = grad(be, y.shape);
        be.softmaxBackward(dx.storage, dy.buf(), y.buf(), y.numel() / Math.max(1, cols), cols);
        return dx;
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
        Backend be = Tensor.backend("attention", q, k, v);
        int BH = s[0] * s[1], T = s[2], hd = s[3];
        if (!be.hasFusedAttention(hd)) return composedAttention(q, k, v, scale);
        Tensor out = out(be, s), lse = out(be, s[0], s[1], T);
        be.attention(out.storage, lse.storage, q.buf(), k.buf(), v.buf(), BH, T, hd, scale);
        return new AttentionOut(out, lse);
    }

    /**
     * The heads of a fused projection: qkv (B, T, 3 D) read as (B, T, 3, H, hd) gives q, k and v, each (B, H, T, hd)
     * and contiguous, as the attention kernels take them.
     */
    public static Tensor[] splitHeads(Tensor qkv, int heads) {
        int[] s = qkv.shape();
        if (s.length != 3 || heads < 1 || s[2] % (3 * heads) != 0)
            throw new IllegalArgumentException("splitHeads: qkv must be (B, T, 3 x " + heads + " heads x hd), got " + Shapes.str(s));
        Tensor split = qkv.reshape(s[0], s[1], 3, heads, s[2] / (3 * heads)).permute(2, 0, 3, 1, 4);   // (3, B, H, T, hd), a view
        return new Tensor[]{split.select(0, 0).contiguous(), split.select(0, 1).contiguous(), split.select(0, 2).contiguous()};
    }

    /** splitHeads backwards: dq, dk, dv (B, H, T, hd) written into one (B, T, 3 D) gradient, each value once. */
    public static Tensor mergeHeads(Tensor dq, Tensor dk, Tensor dv) {
        int[] s = dq.shape();
        if (s.length != 4) throw new IllegalArgumentException("mergeHeads: dq must be (B, H, T, hd), got " + Shapes.str(s));
        requireShape("mergeHeads", "dk", dk, s);
        requireShape("mergeHeads", "dv", dv, s);
        Tensor d = out(Tensor.backend("mergeHeads", dq, dk, dv), s[0], s[2], 3 * s[1] * s[3]);
        Tensor split = d.view(s[0], s[2], 3, s[1], s[3]).permute(2, 0, 3, 1, 4);                     // (3, B, H, T, hd), a view
        split.narrowInto(0, 0, dq.unsqueeze(0));
        split.narrowInto(0, 1, dk.unsqueeze(0));
        split.narrowInto(0, 2, dv.unsqueeze(0));
        return d;
    }

    /**
     * Whether {@link #attentionHeads} reads the heads of qkv (B, T, 3 D) where they lie: the backend has the kernel
     * for the head width. Else the caller splits the heads out ({@link #splitHeads}) and merges the gradients back.
     */
    public static boolean headsInPlace(Tensor qkv, int heads) {
        int[] s = qkv.shape();
        return s.length == 3 && heads >= 1 && s[2] % (3 * heads) == 0 && qkv.backend().hasHeadsAttention(s[2] / (3 * heads));
    }

    /**
     * softmax(q k^T scale) v on the heads of qkv (B, T, 3 D), laid out (B, T, 3, H, hd), read in place (see
     * {@link #headsInPlace}). out is (B, H, T, hd) as a view of a (B, T, H, hd) tensor, so (B, T, D) for the output
     * projection is a view too; lse (B, H, T).
     */
    public static AttentionOut attentionHeads(Tensor qkv, int heads, float scale) {
        if (!headsInPlace(qkv, heads))
            throw new IllegalArgumentException("attentionHeads: qkv " + Shapes.str(qkv.shape()) + " with " + heads
                    + " heads is not (B, T, 3 x heads x hd) on a backend that reads heads in place; split them (splitHeads)");
        int[] s = qkv.shape();
        int B = s[0], T = s[1], hd = s[2] / (3 * heads);
        Backend be = Tensor.backend("attentionHeads", qkv);
        Tensor out = out(be, B, T, heads, hd), lse = out(be, B, heads, T);
        be.attentionHeads(out.storage, lse.storage, qkv.buf(), B, heads, T, hd, scale);
        return new AttentionOut(out.transpose(1, 2), lse);
    }

    /**
     * {@link #attentionHeads} backwards: the gradient of qkv (B, T, 3 D) given dout (B, H, T, hd) and the forward's
     * out and lse. dout coming back from the output projection is already a (B, T, H, hd) tensor seen as (B, H, T, hd),
     * so transposing it back costs no copy.
     */
    public static Tensor attentionHeadsBackward(Tensor dout, Tensor qkv, Tensor out, Tensor lse, int heads, float scale) {
        int[] s = qkv.shape();
        int B = s[0], T = s[1], hd = s[2] / (3 * heads);
        requireShape("attentionHeadsBackward", "dout", dout, B, heads, T, hd);
        requireShape("attentionHeadsBackward", "out", out, B, heads, T, hd);
        Backend be = Tensor.backend("attentionHeadsBackward", dout, qkv, out, lse);
        Tensor dqkv = out(be, s);                  // written whole by the kernel: no zeroing pass
        be.attentionHeadsBackward(dqkv.storage, dout.transpose(1, 2).buf(), qkv.buf(), out.transpose(1, 2).buf(), lse.buf(), B, heads, T, hd, scale);
        return dqkv;
    }

    /** dq, dk, dv. */
    public static Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale) {
        int[] s = q.shape();
        Backend be = Tensor.backend("attentionBackward", dout, q, k, v, out, lse);
        int BH = s[0] * s[1], T = s[2], hd = s[3];
        if (!be.hasFusedAttention(hd)) return composedAttentionBackward(dout, q, k, v, lse, scale);
        Tensor dq = grad(be, s), dk = grad(be, s), dv = grad(be, s);
        be.attentionBackward(dq.storage, dk.storage, dv.storage, dout.buf(), q.buf(), k.buf(), v.buf(), out.buf(), lse.buf(), BH, T, hd, scale);
        return new Tensor[]{dq, dk, dv};
    }

    /**
     * Attention of matmuls and a softmax, for backends without a fused kernel for the head width (the (T, T)
     * scores then live in memory): S = q k^T scale; lse = max + log sum exp(S - max); out = softmax(S) v.
     */
    private static AttentionOut composedAttention(Tensor q, Tensor k, Tensor v, float scale) {
        int[] s = q.shape;
        int T = s[2];
        Tensor scores = q.matmul(k.transpose(-2, -1)).mul(scale);                   // (B, H, T, T)
        Tensor max = rowMax(scores);                                                  // (B, H, T, 1)
        Tensor lse = scores.sub(max).exp().sum(new int[]{-1}, true).log().add(max);  // (B, H, T, 1)
        Tensor out = scores.softmax().matmul(v);                                      // (B, H, T, hd)
        return new AttentionOut(out, lse.view(s[0], s[1], T));
    }

    /** The maximum of each last-dim row, kept where the tensor is (no index download): (..., 1). */
    private static Tensor rowMax(Tensor x) {
        int n = x.size(-1);
        int[] rs = x.shape.clone();
        rs[rs.length - 1] = 1;
        Tensor out = out(x.backend(), rs);
        x.backend().max(out.storage, null, x.buf(), x.numel() / Math.max(1, n), n, 1);
        return out;
    }

    /** P = exp(S - lse); dv = P^T dout; dS = P * (dout v^T - rowsum); dq = scale dS k; dk = scale dS^T q. */
    private static Tensor[] composedAttentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor lse, float scale) {
        Tensor scores = q.matmul(k.transpose(-2, -1)).mul(scale);
        Tensor p = scores.sub(lse.unsqueeze(-1)).exp();                               // (B, H, T, T)
        Tensor dv = p.transpose(-2, -1).matmul(dout);
        Tensor dp = dout.matmul(v.transpose(-2, -1));
        Tensor ds = softmaxBackward(dp, p).mul(scale);
        return new Tensor[]{ds.matmul(k), ds.transpose(-2, -1).matmul(q), dv};
    }

    // ---------------------------------------------------------------- AdamW

    /** One AdamW step in place on contiguous p, m, v with gradient g (all the same shape). */
    public static void adamw(Tensor p, Tensor g, Tensor m, Tensor v, long t, float lr, float beta1, float beta2, float eps, float wd) {
        requireShape("adamw", "grad", g, p.shape());
        if (!p.isContiguous() || !m.isContiguous() || !v.isContiguous() || p.offset() != 0 || m.offset() != 0 || v.offset() != 0)
            throw new IllegalArgumentException("adamw: parameter and moments must be contiguous, unshared tensors");
        Tensor.backend("adamw", p, g, m, v).adamw(p.storage, g.buf(), m.storage, v.storage, p.numel(), t, lr, beta1, beta2, eps, wd);
    }
}
