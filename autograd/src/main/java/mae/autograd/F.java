package mae.autograd;

import mae.tensor.Index;
import mae.tensor.Ops;
import mae.tensor.Shapes;
import mae.tensor.Tensor;
import mae.kernels.Workspace;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Differentiable ops on {@link Var}s, each forward beside its backward rule. An op records a node only when
 * grad is enabled and some input requires grad.
 */
public final class F {
    private F() {}

    /** Records y = op(inputs) with the given backward (output grad -> one grad per input, null = none). */
    static Var record(String op, Tensor y, Function<Tensor, Tensor[]> backward, Var... inputs) {
        boolean needs = false;
        if (Grad.enabled()) for (Var v : inputs) needs |= v != null && v.requiresGrad();
        Trace.op(op, y, inputs);                                   // no-op unless a Trace is recording
        Profile.forward(op, y, inputs);                            // no-op unless a Profile is active
        return new Var(y, needs, needs ? new Node(op, inputs, backward) : null);
    }

    /** Sums a broadcast gradient back down to the input's shape. */
    public static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        int[] dims = new int[gs.length];
        int n = 0;
        for (int i = 0; i < gs.length; i++)
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) dims[n++] = i;
        Tensor s = n == 0 ? g : g.sum(Arrays.copyOf(dims, n), true);
        return s.reshape(shape);
    }

    // ---------------------------------------------------------------- elementwise, broadcasting

    public static Var add(Var a, Var b) {
        int[] as = a.shape(), bs = b.shape();
        return record("add", a.value().add(b.value()), g -> new Tensor[]{sumTo(g, as), sumTo(g, bs)}, a, b);
    }

    public static Var sub(Var a, Var b) {
        int[] as = a.shape(), bs = b.shape();
        return record("sub", a.value().sub(b.value()), g -> new Tensor[]{sumTo(g, as), sumTo(g.neg(), bs)}, a, b);
    }

    public static Var mul(Var a, Var b) {
        Tensor x = a.value(), y = b.value();
        return record("mul", x.mul(y), g -> new Tensor[]{
                a.requiresGrad() ? sumTo(g.mul(y), x.shape()) : null,
                b.requiresGrad() ? sumTo(g.mul(x), y.shape()) : null}, a, b);
    }

    public static Var div(Var a, Var b) {
        Tensor x = a.value(), y = b.value();
        return record("div", x.div(y), g -> new Tensor[]{
                a.requiresGrad() ? sumTo(g.div(y), x.shape()) : null,
                b.requiresGrad() ? sumTo(g.mul(x).div(y.square()).neg(), y.shape()) : null}, a, b);
    }

    public static Var add(Var a, float s) { return record("add scalar", a.value().add(s), g -> new Tensor[]{g}, a); }
    public static Var mul(Var a, float s) { return record("mul scalar", a.value().mul(s), g -> new Tensor[]{g.mul(s)}, a); }

    public static Var neg(Var a) { return record("neg", a.value().neg(), g -> new Tensor[]{g.neg()}, a); }

    public static Var exp(Var a) {
        Tensor y = a.value().exp();
        return record("exp", y, g -> new Tensor[]{g.mul(y)}, a);
    }

    public static Var log(Var a) {
        Tensor x = a.value();
        return record("log", x.log(), g -> new Tensor[]{g.div(x)}, a);
    }

    public static Var sqrt(Var a) {
        Tensor y = a.value().sqrt();
        return record("sqrt", y, g -> new Tensor[]{g.div(y.mul(2f))}, a);
    }

    /** y = x^-1/2, dy/dx = -y^3 / 2. */
    public static Var rsqrt(Var a) {
        Tensor y = a.value().rsqrt();
        return record("rsqrt", y, g -> new Tensor[]{g.mul(y.mul(y).mul(y)).mul(-0.5f)}, a);
    }

    /** y = x^p, dy/dx = p x^(p-1). */
    public static Var pow(Var a, float p) {
        Tensor x = a.value();
        return record("pow", x.pow(p), g -> new Tensor[]{g.mul(x.pow(p - 1)).mul(p)}, a);
    }

    public static Var tanh(Var a) {
        Tensor y = a.value().tanh();
        return record("tanh", y, g -> new Tensor[]{g.mul(y.square().neg().add(1f))}, a);
    }

    /** d erf(x)/dx = 2/sqrt(pi) exp(-x^2). */
    public static Var erf(Var a) {
        Tensor x = a.value();
        return record("erf", x.erf(), g -> new Tensor[]{g.mul(x.square().neg().exp().mul((float) (2 / Math.sqrt(Math.PI))))}, a);
    }

    /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)). */
    public static Var gelu(Var a) {
        Tensor x = a.value();
        return record("gelu", Ops.gelu(x), g -> new Tensor[]{Ops.geluBackward(g, x)}, a);
    }

    // ---------------------------------------------------------------- reductions

    public static Var sum(Var a) { return sum(a, null, false); }

    public static Var sum(Var a, int[] dims, boolean keepdim) {
        int[] s = a.shape();
        Tensor y = a.value().sum(dims, keepdim);
        int[] kept = keptShape(s, dims);
        return record("sum", y, g -> new Tensor[]{g.reshape(kept).expand(s).contiguous()}, a);
    }

    public static Var mean(Var a) { return mean(a, null, false); }

    public static Var mean(Var a, int[] dims, boolean keepdim) {
        int[] s = a.shape(), kept = keptShape(s, dims);
        Tensor y = a.value().mean(dims, keepdim);
        float inv = (float) y.numel() / Math.max(1, Shapes.numel(s));
        return record("mean", y, g -> new Tensor[]{g.reshape(kept).expand(s).mul(inv)}, a);
    }

    /** Variance over dims: d var / dx = 2 (x - mean) / (n - correction). */
    public static Var var(Var a, int[] dims, boolean unbiased, boolean keepdim) {
        Tensor x = a.value();
        int[] s = x.shape(), kept = keptShape(s, dims);
        int n = Shapes.numel(s) / Math.max(1, Shapes.numel(kept));
        Tensor y = x.var(dims, unbiased, keepdim);
        float k = 2f / (n - (unbiased ? 1 : 0));
        return record("var", y, g -> {
            Tensor centered = x.sub(x.mean(dims, true));
            return new Tensor[]{centered.mul(g.reshape(kept)).mul(k)};
        }, a);
    }

    /** Max over one dim; the gradient goes to the first maximal element. */
    public static Var max(Var a, int dim, boolean keepdim) {
        int[] s = a.shape();
        int d = Shapes.dim(dim, s.length, "max");
        Tensor.MaxResult r = a.value().max(d, true);
        Tensor y = keepdim ? r.values() : r.values().squeeze(d);
        return record("max", y, g -> {
            int[] gs = s.clone();
            gs[d] = 1;
            return new Tensor[]{Tensor.scatterAdd(s, d, r.indices(), g.reshape(gs))};
        }, a);
    }

    /** The input shape with the reduced dims set to 1 (dims null or empty = all). */
    static int[] keptShape(int[] s, int[] dims) {
        int[] k = s.clone();
        if (dims == null || dims.length == 0) { Arrays.fill(k, 1); return k; }
        for (int d : dims) k[Shapes.dim(d, s.length, "reduce")] = 1;
        return k;
    }

    /** Softmax over the last dim. */
    public static Var softmax(Var a) {
        Tensor y = a.value().softmax();
        return record("softmax", y, g -> new Tensor[]{Ops.softmaxBackward(g, y)}, a);
    }

    // ---------------------------------------------------------------- matmul and layers

    /** Batched a (..., M, K) @ b (..., K, N) with broadcast batch dims. */
    public static Var matmul(Var a, Var b) {
        Tensor x = a.value(), y = b.value();
        return record("matmul", x.matmul(y), g -> new Tensor[]{
                a.requiresGrad() ? sumTo(g.matmul(y.transpose(-2, -1)), x.shape()) : null,
                b.requiresGrad() ? sumTo(x.transpose(-2, -1).matmul(g), y.shape()) : null}, a, b);
    }

    /** x (..., in) W^T + b: weight (out, in), bias (out) or null. */
    public static Var linear(Var x, Var w, Var b) {
        int in = x.size(-1);
        if (w.dim() != 2 || w.size(1) != in)
            throw new IllegalArgumentException("linear: input " + Shapes.str(x.shape()) + " does not fit weight " + Shapes.str(w.shape()) + " (expected (out, " + in + "))");
        if (b != null && (b.dim() != 1 || b.size(0) != w.size(0)))
            throw new IllegalArgumentException("linear: bias " + Shapes.str(b.shape()) + " does not fit weight " + Shapes.str(w.shape()));
        int[] xs = x.shape();
        int rows = x.value().numel() / Math.max(1, in), out = w.size(0);
        Tensor x2 = x.value().reshape(rows, in), W = w.value();
        Tensor y = Ops.linear(x2, W, b == null ? null : b.value());
        int[] ys = xs.clone();
        ys[ys.length - 1] = out;
        return record("linear", y.view(ys), g -> {
            Tensor g2 = g.reshape(rows, out);
            return new Tensor[]{
                    x.requiresGrad() ? g2.matmul(W).view(xs) : null,
                    w.requiresGrad() ? g2.transpose(0, 1).matmul(x2) : null,
                    b != null && b.requiresGrad() ? g2.sum(new int[]{0}, false) : null};
        }, x, w, b);
    }

    /** Layer norm over the last dim with weight and bias (C); saves mean and rstd. */
    public static Var layerNorm(Var x, Var w, Var b, float eps) {
        Ops.LayerNormOut r = Ops.layerNorm(x.value(), w.value(), b.value(), eps);
        Tensor xv = x.value(), wv = w.value();
        return record("layerNorm", r.out(), g -> Ops.layerNormBackward(g, xv, wv, r.mean(), r.rstd()), x, w, b);
    }

    /**
     * Attention on the heads of a fused projection qkv (B, T, 3 D), laid out (B, T, 3, H, hd): (B, H, T, hd). The same
     * values as narrowing q, k and v out of qkv and calling {@link #attention}, but its backward writes dq, dk and dv
     * into one (B, T, 3 D) gradient, where three narrows would each make a zeroed gradient of qkv's full size, to be
     * added up and then copied back out of the heads' layout. Where the backend has the kernel (the CPU), the heads
     * are not even copied out: q, k, v are read inside qkv, and the output is a (B, T, H, hd) tensor seen as
     * (B, H, T, hd), so the output projection's (B, T, D) is a view of it.
     */
    public static Var attentionHeads(Var qkv, int heads, float scale) {
        Tensor x = qkv.value();
        if (Ops.headsInPlace(x, heads)) {                       // the heads read and written where they lie: no copies
            Ops.AttentionOut r = Ops.attentionHeads(x, heads, scale);
            return record("attention", r.out(), g -> new Tensor[]{Ops.attentionHeadsBackward(g, x, r.out(), r.lse(), heads, scale)}, qkv);
        }
        Tensor[] h = Ops.splitHeads(x, heads);
        Ops.AttentionOut r = Ops.attention(h[0], h[1], h[2], scale);
        return record("attention", r.out(), g -> {
            Tensor[] d = Ops.attentionBackward(g, h[0], h[1], h[2], r.out(), r.lse(), scale);
            return new Tensor[]{Ops.mergeHeads(d[0], d[1], d[2])};
        }, qkv);
    }

    /** Fused softmax(q k^T * scale) v over (B, H, T, hd); saves only the row log-sum-exp. */
    public static Var attention(Var q, Var k, Var v, float scale) {
        Tensor qv = q.value().contiguous(), kv = k.value().contiguous(), vv = v.value().contiguous();
        Ops.AttentionOut r = Ops.attention(qv, kv, vv, scale);
        return record("attention", r.out(), g -> Ops.attentionBackward(g, qv, kv, vv, r.out(), r.lse(), scale), q, k, v);
    }

    /**
     * Conv2d with kernel = stride = p (the patch embedding): x (N, C, H, W), weight (D, C, p, p), bias (D)
     * -> (N, L, D), L = (H/p)(W/p) patches in row-major order. Computed as patchify in (C, p, p) order + matmul.
     */
    public static Var patchEmbed(Var x, Var w, Var b) {
        int[] s = x.shape(), ws = w.shape();
        if (s.length != 4 || ws.length != 4 || s[1] != ws[1] || ws[2] != ws[3])
            throw new IllegalArgumentException("patchEmbed: input " + Shapes.str(s) + " does not fit weight " + Shapes.str(ws) + " (expected (N, C, H, W) and (D, C, p, p))");
        int N = s[0], C = s[1], H = s[2], W = s[3], D = ws[0], p = ws[2];
        if (H % p != 0 || W % p != 0)
            throw new IllegalArgumentException("patchEmbed: image " + H + "x" + W + " is not divisible by patch " + p);
        int gh = H / p, gw = W / p;
        // (N, C, gh, p, gw, p) -> (N, gh, gw, C, p, p) -> (N*L, C*p*p)
        Var cols = reshape(permute(reshape(x, N, C, gh, p, gw, p), 0, 2, 4, 1, 3, 5), N * gh * gw, C * p * p);
        Var y = linear(cols, reshape(w, D, C * p * p), b);
        return reshape(y, N, gh * gw, D);
    }

    // ---------------------------------------------------------------- views

    public static Var reshape(Var a, int... shape) {
        int[] s = a.shape();
        return record("reshape", a.value().reshape(shape), g -> new Tensor[]{g.reshape(s)}, a);
    }

    public static Var permute(Var a, int... order) {
        int[] inv = new int[order.length];
        for (int i = 0; i < order.length; i++) inv[Shapes.dim(order[i], order.length, "permute")] = i;
        return record("permute", a.value().permute(order), g -> new Tensor[]{g.permute(inv)}, a);
    }

    public static Var transpose(Var a, int d0, int d1) {
        return record("transpose", a.value().transpose(d0, d1), g -> new Tensor[]{g.transpose(d0, d1)}, a);
    }

    /** Elements [start, start + len) along dim; backward pads the gradient with zeros. */
    public static Var narrow(Var a, int dim, int start, int len) {
        int[] s = a.shape();
        int d = Shapes.dim(dim, s.length, "narrow");
        return record("narrow", a.value().narrow(d, start, len), g -> {
            Tensor full = Tensor.zeros(g.device(), s);
            full.narrowInto(d, start, g);
            return new Tensor[]{full};
        }, a);
    }

    public static Var expand(Var a, int... shape) {
        int[] s = a.shape();
        return record("expand", a.value().expand(shape), g -> new Tensor[]{sumTo(g, s)}, a);
    }

    public static Var unsqueeze(Var a, int dim) {
        int[] s = a.shape();
        return record("unsqueeze", a.value().unsqueeze(dim), g -> new Tensor[]{g.reshape(s)}, a);
    }

    public static Var squeeze(Var a, int dim) {
        int[] s = a.shape();
        return record("squeeze", a.value().squeeze(dim), g -> new Tensor[]{g.reshape(s)}, a);
    }

    // ---------------------------------------------------------------- indexing

    /** Gather along dim (see {@link Tensor#gather}); backward scatter-adds. */
    public static Var gather(Var a, int dim, Index index) {
        int[] s = a.shape();
        return record("gather", a.value().gather(dim, index), g -> new Tensor[]{Tensor.scatterAdd(s, dim, index, g)}, a);
    }

    /** Concatenation along dim; backward splits the gradient. */
    public static Var concat(int dim, Var... parts) {
        Tensor[] vs = new Tensor[parts.length];
        for (int i = 0; i < parts.length; i++) vs[i] = parts[i].value();
        Tensor y = Tensor.concat(dim, vs);
        int d = Shapes.dim(dim, y.dim(), "concat");
        return record("concat", y, g -> {
            Tensor[] gs = new Tensor[parts.length];
            int at = 0;
            for (int i = 0; i < parts.length; i++) {
                int len = vs[i].size(d);
                gs[i] = parts[i].requiresGrad() ? g.narrow(d, at, len).contiguous() : null;
                at += len;
            }
            return gs;
        }, parts);
    }

    // ---------------------------------------------------------------- losses

    /** Per-row mean squared error: pred, target (..., n) -> (...), mean over the last dim of (pred - target)^2. */
    public static Var mseRows(Var pred, Var target) {
        if (!Arrays.equals(pred.shape(), target.shape()))
            throw new IllegalArgumentException("mseRows: pred " + Shapes.str(pred.shape()) + " and target " + Shapes.str(target.shape()) + " differ");
        Var d = sub(pred, target);
        return mean(mul(d, d), new int[]{-1}, false);
    }

    /** sum(x * mask) / sum(mask): the mean of x over the positions where mask is 1 (mask is not differentiated). */
    public static Var maskedMean(Var x, Tensor mask) {
        if (!Arrays.equals(x.shape(), mask.shape()))
            throw new IllegalArgumentException("maskedMean: values " + Shapes.str(x.shape()) + " and mask " + Shapes.str(mask.shape()) + " differ");
        float count = mask.sum().item();
        if (count == 0) throw new IllegalArgumentException("maskedMean: mask " + Shapes.str(mask.shape()) + " selects nothing");
        Tensor y = x.value().mul(mask).sum().div(count);
        int[] s = x.shape();
        return record("maskedMean", y, g -> new Tensor[]{mask.mul(g.item() / count).reshape(s)}, x);
    }

    /**
     * Mean cross-entropy of logits (N, K) against labels with label smoothing e: the target is (1 - e) on the
     * label plus e / K everywhere. Fused: backward is (softmax(logits) - target) / N.
     */
    public static Var crossEntropy(Var logits, int[] labels, float smoothing) {
        int[] s = logits.shape();
        if (s.length != 2 || s[0] != labels.length)
            throw new IllegalArgumentException("crossEntropy: logits " + Shapes.str(s) + " do not match " + labels.length + " labels");
        int N = s[0], K = s[1];
        Tensor p = logits.value().softmax();
        float[] pv = p.toArray(), target = Workspace.floats(N * K);
        double loss = 0;
        for (int i = 0; i < N; i++) {
            if (labels[i] < 0 || labels[i] >= K) throw new IndexOutOfBoundsException("crossEntropy: label " + labels[i] + " of row " + i + " is outside [0, " + K + ")");
            for (int k = 0; k < K; k++) {
                float t = smoothing / K + (k == labels[i] ? 1 - smoothing : 0);
                target[i * K + k] = t;
                loss -= t * Math.log(Math.max(pv[i * K + k], Float.MIN_NORMAL));
            }
        }
        Tensor y = Tensor.scalar((float) (loss / N)).to(p.device());      // computed on the host, kept on the logits' device
        Tensor tgt = Tensor.of(target, N, K).to(p.device());
        return record("crossEntropy", y, g -> new Tensor[]{p.sub(tgt).mul(g.item() / N)}, logits);
    }
}
