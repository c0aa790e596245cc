package mae.tensor;

import mae.kernels.Backend;
import mae.kernels.Workspace;
import mae.kernels.Buf;
import mae.kernels.Elementwise;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.HostStorage;
import mae.kernels.Storage;

import java.util.Arrays;

/**
 * An n-d float32 tensor: a storage buffer seen through (shape, strides, offset). Views (view, permute,
 * transpose, narrow, select, expand, unsqueeze, squeeze) share storage; every op returns a new contiguous
 * tensor. Shapes in error messages are written [d0,d1,...].
 *
 * <p>The device is part of the tensor: its {@link Storage} belongs to one {@link Backend} (mae.kernels: the
 * seam), which every op on it calls for the raw work; this class keeps the shape logic and is the same for
 * every device. Inputs on different devices are an error. Reading values on the host (toArray, item, get,
 * toString) from a CUDA tensor downloads them and so waits for the GPU.
 */
public final class Tensor {
    final Storage storage;
    final int offset;
    final int[] shape;
    final int[] strides;

    private Tensor(Storage storage, int offset, int[] shape, int[] strides) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    /** A view of this tensor's storage with other offset, shape and strides. */
    private Tensor withLayout(int offset, int[] shape, int[] strides) { return new Tensor(storage, offset, shape, strides); }

    /** A contiguous tensor over a storage, from its start. */
    static Tensor over(Storage s, int... shape) { return new Tensor(s, 0, shape.clone(), Shapes.contiguousStrides(shape)); }

    /** A new contiguous tensor of a backend: zeroed, or (for outputs that are written whole) undefined. */
    static Tensor empty(Backend b, boolean zeroed, int... shape) { return over(b.allocate(Shapes.numel(shape), zeroed), shape); }

    /** The backend that runs ops on this tensor. */
    Backend backend() { return storage.backend(); }

    /** This tensor's values as a contiguous operand (a copy when it is not contiguous). */
    Buf buf() {
        Tensor c = contiguous();
        return new Buf(c.storage, c.offset);
    }

    /** The one backend of the tensors (nulls skipped); the error names the op and each shape and device. */
    static Backend backend(String op, Tensor... ts) {
        Backend b = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            if (b == null) b = t.backend();
            else if (t.backend() != b) throw new IllegalArgumentException(mixedDevices(op, ts));
        }
        return b;
    }

    private static String mixedDevices(String op, Tensor... ts) {
        StringBuilder s = new StringBuilder(op + ": tensors on different devices:");
        String sep = " ";
        for (Tensor u : ts) {
            if (u == null) continue;
            s.append(sep).append(Shapes.str(u.shape)).append(" on ").append(u.backend().device());
            sep = ", ";
        }
        return s.append("; move them with .to(Device)").toString();
    }

    // ---------------------------------------------------------------- creation

    /** Wraps (does not copy) a row-major array. */
    public static Tensor of(float[] data, int... shape) {
        if (Shapes.numel(shape) != data.length)
            throw new IllegalArgumentException("Tensor.of: " + data.length + " values do not fill shape " + Shapes.str(shape));
        return over(new HostStorage(data), shape);
    }

    public static Tensor scalar(float v) { return of(new float[]{v}); }
    public static Tensor zeros(int... shape) { return of(Workspace.floats(Shapes.numel(shape)), shape); }
    public static Tensor ones(int... shape) { return full(1f, shape); }

    public static Tensor full(float v, int... shape) {
        float[] d = Workspace.floats(Shapes.numel(shape));
        Arrays.fill(d, v);
        return of(d, shape);
    }

    /** Zeros on a device. */
    public static Tensor zeros(Device device, int... shape) { return full(device, 0f, shape); }

    /** A constant tensor on a device. */
    public static Tensor full(Device device, float v, int... shape) {
        Tensor t = empty(device.backend(), false, shape);
        t.backend().fill(t.buf(), t.numel(), v);
        return t;
    }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n) { return arange(0, n, 1); }

    public static Tensor arange(float start, float end, float step) {
        if (step == 0) throw new IllegalArgumentException("arange: step must not be 0");
        int n = Math.max(0, (int) Math.ceil((end - start) / step));
        float[] d = Workspace.floats(n);
        for (int i = 0; i < n; i++) d[i] = start + i * step;
        return of(d, n);
    }

    /** Uniform in [0, 1) from a seeded generator. */
    public static Tensor rand(Rng rng, int... shape) {
        float[] d = Workspace.floats(Shapes.numel(shape));
        for (int i = 0; i < d.length; i++) d[i] = rng.nextFloat();
        return of(d, shape);
    }

    /** Standard normal from a seeded generator. */
    public static Tensor randn(Rng rng, int... shape) {
        float[] d = Workspace.floats(Shapes.numel(shape));
        for (int i = 0; i < d.length; i++) d[i] = (float) rng.nextGaussian();
        return of(d, shape);
    }

    // ---------------------------------------------------------------- info and element access

    public int[] shape() { return shape.clone(); }
    public int size(int d) { return shape[Shapes.dim(d, shape.length, "size")]; }
    public int dim() { return shape.length; }
    public int numel() { return Shapes.numel(shape); }
    public int[] strides() { return strides.clone(); }
    public int offset() { return offset; }
    public Device device() { return Device.of(backend()); }
    public boolean isContiguous() { return Elementwise.isContiguous(shape, strides); }

    /** The backing buffer, for CPU kernels: valid as a row-major array from {@link #offset()} when contiguous. */
    public float[] data() {
        if (!(storage instanceof HostStorage))
            throw new IllegalStateException("tensor " + Shapes.str(shape) + " is on " + backend().device() + "; call .to(Device.CPU)");
        return ((HostStorage) storage).data;
    }

    /**
     * This tensor on a device: itself when already there, else a contiguous copy (an upload or a download).
     * To CUDA where no GPU is usable: IllegalStateException with the reason.
     */
    public Tensor to(Device d) {
        if (d == device()) return this;
        return over(d.backend("Tensor" + Shapes.str(shape) + ".to(" + d + ")").fromHost(toArray()), shape);
    }

    private int pos(int[] idx, String op) {
        if (idx.length != shape.length)
            throw new IllegalArgumentException(op + ": " + idx.length + " indices for a tensor of shape " + Shapes.str(shape));
        int p = offset;
        for (int d = 0; d < idx.length; d++) {
            if (idx[d] < 0 || idx[d] >= shape[d])
                throw new IndexOutOfBoundsException(op + ": index " + idx[d] + " out of range for dim " + d + " of size " + shape[d] + " in shape " + Shapes.str(shape));
            p += idx[d] * strides[d];
        }
        return p;
    }

    public float get(int... idx) {
        return read(pos(idx, "get"));
    }

    public void set(float v, int... idx) {
        backend().fill(new Buf(storage, pos(idx, "set")), 1, v);
    }

    /** The element at a storage position (a one-element download on a device). */
    private float read(int p) {
        float[] v = new float[1];
        backend().toHost(new Buf(storage, p), v);
        return v[0];
    }

    /** The value of a one-element tensor. */
    public float item() {
        if (numel() != 1) throw new IllegalStateException("item: tensor of shape " + Shapes.str(shape) + " has " + numel() + " elements, not 1");
        return read(offset);
    }

    /** A row-major copy of the values, on the host. */
    public float[] toArray() {
        float[] out = Workspace.floats(numel());
        if (storage instanceof HostStorage) Elementwise.copy(out, 0, shape, data(), offset, strides);   // no second copy
        else backend().toHost(buf(), out);
        return out;
    }

    // ---------------------------------------------------------------- views (no copy)

    /** Same data in a new shape; one size may be -1. Needs a contiguous tensor (use reshape otherwise). */
    public Tensor view(int... newShape) {
        int[] s = inferShape(newShape);
        if (!isContiguous())
            throw new IllegalStateException("view: tensor of shape " + Shapes.str(shape) + " with strides " + Shapes.str(strides) + " is not contiguous; use reshape");
        return withLayout(offset, s, Shapes.contiguousStrides(s));
    }

    /** view when contiguous, else a contiguous copy in the new shape. */
    public Tensor reshape(int... newShape) { return contiguous().view(newShape); }

    private int[] inferShape(int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("view: more than one -1 in " + Shapes.str(newShape));
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("view: negative size in " + Shapes.str(newShape));
            } else known *= s[i];
        }
        int n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0)
                throw new IllegalArgumentException("view: shape " + Shapes.str(newShape) + " is invalid for a tensor of shape " + Shapes.str(shape));
            s[infer] = n / known;
        }
        if (Shapes.numel(s) != n)
            throw new IllegalArgumentException("view: shape " + Shapes.str(newShape) + " is invalid for a tensor of shape " + Shapes.str(shape) + " (" + n + " elements)");
        return s;
    }

    /** Reorders dims: result dim i is this tensor's dim order[i]. */
    public Tensor permute(int... order) {
        if (order.length != shape.length)
            throw new IllegalArgumentException("permute: order " + Shapes.str(order) + " does not match rank " + shape.length);
        int[] s = new int[order.length], st = new int[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int d = Shapes.dim(order[i], shape.length, "permute");
            if (seen[d]) throw new IllegalArgumentException("permute: dim " + d + " repeated in " + Shapes.str(order));
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return withLayout(offset, s, st);
    }

    public Tensor transpose(int d0, int d1) {
        int a = Shapes.dim(d0, shape.length, "transpose"), b = Shapes.dim(d1, shape.length, "transpose");
        int[] order = new int[shape.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    /** Elements [start, start + length) along dim. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shapes.dim(dim, shape.length, "narrow");
        if (start < 0 || length < 0 || start + length > shape[d])
            throw new IndexOutOfBoundsException("narrow: [" + start + ", " + (start + length) + ") out of range for dim " + d + " of size " + shape[d] + " in shape " + Shapes.str(shape));
        int[] s = shape.clone();
        s[d] = length;
        return withLayout(offset + start * strides[d], s, strides.clone());
    }

    /** The slice at index i of dim, with that dim removed. */
    public Tensor select(int dim, int i) { return narrow(dim, i, 1).squeeze(dim); }

    /** Broadcasts size-1 dims (and new leading dims) to a larger shape, with stride 0. */
    public Tensor expand(int... newShape) {
        if (newShape.length < shape.length)
            throw new IllegalArgumentException("expand: cannot expand shape " + Shapes.str(shape) + " to fewer dims " + Shapes.str(newShape));
        int lead = newShape.length - shape.length;
        int[] s = newShape.clone(), st = new int[newShape.length];
        for (int i = 0; i < shape.length; i++) {
            int want = newShape[lead + i];
            if (want == -1) want = shape[i];
            if (shape[i] == want) st[lead + i] = strides[i];
            else if (shape[i] == 1) st[lead + i] = 0;
            else throw new IllegalArgumentException("expand: shape " + Shapes.str(shape) + " cannot expand to " + Shapes.str(newShape) + " (dim " + i + " has size " + shape[i] + ")");
            s[lead + i] = want;
        }
        return withLayout(offset, s, st);
    }

    public Tensor unsqueeze(int dim) {
        int d = Shapes.dim(dim, shape.length + 1, "unsqueeze");
        int[] s = new int[shape.length + 1], st = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) { s[i] = 1; st[i] = j < shape.length ? strides[j] * shape[j] : 1; }
            else { s[i] = shape[j]; st[i] = strides[j]; j++; }
        }
        return withLayout(offset, s, st);
    }

    /** Removes dim, which must have size 1. */
    public Tensor squeeze(int dim) {
        int d = Shapes.dim(dim, shape.length, "squeeze");
        if (shape[d] != 1) throw new IllegalArgumentException("squeeze: dim " + d + " of shape " + Shapes.str(shape) + " has size " + shape[d] + ", not 1");
        int[] s = new int[shape.length - 1], st = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) if (i != d) { s[j] = shape[i]; st[j] = strides[i]; j++; }
        return withLayout(offset, s, st);
    }

    /** This tensor when contiguous, else a contiguous copy. */
    public Tensor contiguous() { return isContiguous() ? this : copy(); }

    /** A contiguous copy, on the same device. */
    public Tensor copy() {
        Tensor out = empty(backend(), false, shape);
        backend().copy(out.storage, 0, out.strides, shape, storage, offset, strides);
        return out;
    }

    // ---------------------------------------------------------------- elementwise

    public Tensor map(Unary op) {
        Tensor out = empty(backend(), false, shape);
        backend().unary(op, out.storage, shape, storage, offset, strides);
        return out;
    }

    public Tensor neg() { return map(Unary.NEG); }
    public Tensor exp() { return map(Unary.EXP); }
    public Tensor log() { return map(Unary.LOG); }
    public Tensor sqrt() { return map(Unary.SQRT); }
    public Tensor rsqrt() { return map(Unary.RSQRT); }
    public Tensor tanh() { return map(Unary.TANH); }
    public Tensor erf() { return map(Unary.ERF); }
    public Tensor abs() { return map(Unary.ABS); }
    public Tensor square() { return map(Unary.SQUARE); }

    /** a op b with broadcasting; the result is contiguous in the broadcast shape. */
    public Tensor zip(Binary op, Tensor b) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        Backend be = backend(name, this, b);
        int[] s = Shapes.broadcast(shape, b.shape, name);
        Tensor x = expand(s), y = b.expand(s), out = empty(be, false, s);
        be.binary(op, out.buf(), s, x.storage, x.offset, x.strides, y.storage, y.offset, y.strides);
        return out;
    }

    public Tensor add(Tensor b) { return zip(Binary.ADD, b); }
    public Tensor sub(Tensor b) { return zip(Binary.SUB, b); }
    public Tensor mul(Tensor b) { return zip(Binary.MUL, b); }
    public Tensor div(Tensor b) { return zip(Binary.DIV, b); }
    public Tensor pow(Tensor b) { return zip(Binary.POW, b); }
    public Tensor maximum(Tensor b) { return zip(Binary.MAX, b); }
    public Tensor add(float b) { return zip(Binary.ADD, scalarHere(b)); }
    public Tensor sub(float b) { return zip(Binary.SUB, scalarHere(b)); }
    public Tensor mul(float b) { return zip(Binary.MUL, scalarHere(b)); }
    public Tensor div(float b) { return zip(Binary.DIV, scalarHere(b)); }
    public Tensor pow(float b) { return zip(Binary.POW, scalarHere(b)); }

    /** A scalar on this tensor's device. */
    private Tensor scalarHere(float v) {
        Tensor t = empty(backend(), false);
        backend().fill(t.buf(), 1, v);
        return t;
    }

    // ---------------------------------------------------------------- in place (on contiguous tensors)

    private void requireOwnContiguous(String op) {
        if (!isContiguous()) throw new IllegalStateException(op + ": needs a contiguous tensor, got strides " + Shapes.str(strides) + " for shape " + Shapes.str(shape));
    }

    /** this += b, where b broadcasts to this tensor's shape. */
    public Tensor addInPlace(Tensor b) {
        requireOwnContiguous("addInPlace");
        if (!Arrays.equals(Shapes.broadcast(shape, b.shape, "addInPlace"), shape))
            throw new IllegalArgumentException("addInPlace: shape " + Shapes.str(b.shape) + " does not broadcast to " + Shapes.str(shape));
        Backend be = backend("addInPlace", this, b);
        Tensor y = b.expand(shape);
        be.binary(Binary.ADD, new Buf(storage, offset), shape, storage, offset, strides, y.storage, y.offset, y.strides);
        return this;
    }

    public Tensor mulInPlace(float s) {
        requireOwnContiguous("mulInPlace");
        backend().scale(new Buf(storage, offset), numel(), s);
        return this;
    }

    public Tensor fill(float v) {
        requireOwnContiguous("fill");
        backend().fill(new Buf(storage, offset), numel(), v);
        return this;
    }

    /**
     * src's values in this buffer's place without a copy, where the backend can: src (this shape, contiguous, the
     * whole of its storage) was made in the workspace scope open on this thread, and this tensor owns the whole of a
     * storage of the same length made outside it. The scope then keeps src's storage past its end and releases this
     * one's instead; returns a tensor over src's storage, which the caller uses from now on in place of this one (whose
     * memory the pool may hand out again). Null, and nothing changed, where that does not hold: copy instead.
     */
    public Tensor exchangeFor(Tensor src) {
        if (!Arrays.equals(shape, src.shape) || !isWhole() || !src.isWhole() || src.backend() != backend()) return null;
        return backend().exchange(src.storage, storage) ? over(src.storage, shape) : null;
    }

    /** Contiguous, from offset 0, over all of its storage. */
    private boolean isWhole() { return offset == 0 && isContiguous() && storage.length() == numel(); }

    /** Whether this tensor and o are views of one storage. */
    public boolean sharesStorage(Tensor o) { return storage == o.storage; }

    /** Copies src (same shape, any strides, any device: a copy across devices uploads or downloads) into this contiguous tensor. */
    public Tensor copyFrom(Tensor src) {
        requireOwnContiguous("copyFrom");
        if (!Arrays.equals(shape, src.shape))
            throw new IllegalArgumentException("copyFrom: source shape " + Shapes.str(src.shape) + " differs from " + Shapes.str(shape));
        Tensor s = src.backend() == backend() ? src : src.to(device());   // across devices: an upload or a download
        backend().copy(storage, offset, strides, shape, s.storage, s.offset, s.strides);
        return this;
    }

    // ---------------------------------------------------------------- reductions

    private static int[] dimsOrAll(int[] dims, int rank, String op) {
        if (dims == null || dims.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        int[] d = new int[dims.length];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < dims.length; i++) {
            d[i] = Shapes.dim(dims[i], rank, op);
            if (seen[d[i]]) throw new IllegalArgumentException(op + ": dim " + dims[i] + " repeated");
            seen[d[i]] = true;
        }
        Arrays.sort(d);
        return d;
    }

    /** The shape after reducing dims: kept as size 1 with keepdim, else removed. */
    public static int[] reducedShape(int[] shape, int[] dims, boolean keepdim) {
        boolean[] red = new boolean[shape.length];
        for (int d : dims) red[d] = true;
        int[] out = new int[keepdim ? shape.length : shape.length - dims.length];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (!red[i]) out[j++] = shape[i];
            else if (keepdim) out[j++] = 1;
        }
        return out;
    }

    /**
     * Moves the reduced dims last and returns (contiguous tensor, outer, n): the reduction is then over the
     * last n elements of each of outer rows.
     */
    private Tensor reducedLast(int[] dims) {
        int r = shape.length;
        boolean[] red = new boolean[r];
        for (int d : dims) red[d] = true;
        int[] order = new int[r];
        int j = 0;
        for (int i = 0; i < r; i++) if (!red[i]) order[j++] = i;
        for (int d : dims) order[j++] = d;
        return permute(order).contiguous();
    }

    /** Sum over dims (all when none given). */
    public Tensor sum(int[] dims, boolean keepdim) {
        int[] d = dimsOrAll(dims, shape.length, "sum");
        int[] oni = outerNInner(d);
        Tensor x = oni == null ? reducedLast(d) : this;
        if (oni == null) oni = new int[]{Shapes.numel(reducedShape(shape, d, false)), Shapes.numel(shape) / Math.max(1, Shapes.numel(reducedShape(shape, d, false))), 1};
        Tensor out = empty(backend(), false, reducedShape(shape, d, keepdim));
        backend().sum(out.storage, x.buf(), oni[0], oni[1], oni[2]);
        return out;
    }

    /**
     * (outer, n, inner) when this tensor is contiguous and the sorted reduced dims are consecutive, so that a
     * reduction reads it in place; else null (the reduced dims are then moved last by a copy).
     */
    private int[] outerNInner(int[] d) {
        if (!isContiguous()) return null;
        for (int i = 1; i < d.length; i++) if (d[i] != d[i - 1] + 1) return null;
        int first = d[0], last = d[d.length - 1];
        return new int[]{Shapes.prod(shape, 0, first), Shapes.prod(shape, first, last + 1), Shapes.prod(shape, last + 1, shape.length)};
    }

    public Tensor sum() { return sum(null, false); }

    public Tensor mean(int[] dims, boolean keepdim) {
        int[] d = dimsOrAll(dims, shape.length, "mean");
        int n = 1;
        for (int i : d) n *= shape[i];
        return sum(d, keepdim).mulInPlace(1f / n);
    }

    public Tensor mean() { return mean(null, false); }

    /** Variance over dims: biased (divide by n) or unbiased (n - 1). */
    public Tensor var(int[] dims, boolean unbiased, boolean keepdim) {
        int[] d = dimsOrAll(dims, shape.length, "var");
        int n = 1;
        for (int i : d) n *= shape[i];
        if (unbiased && n < 2) throw new IllegalArgumentException("var: unbiased variance needs at least 2 elements, the reduced dims of " + Shapes.str(shape) + " hold " + n);
        Tensor x = reducedLast(d);
        int outer = x.numel() / Math.max(1, n);
        Tensor out = empty(backend(), false, reducedShape(shape, d, keepdim));
        backend().var(out.storage, x.buf(), outer, n, unbiased ? 1 : 0);
        return out;
    }

    /** Max over one dim: values and the index of the first maximum. */
    public record MaxResult(Tensor values, Index indices) {}

    public MaxResult max(int dim, boolean keepdim) {
        int d = Shapes.dim(dim, shape.length, "max");
        if (shape[d] == 0) throw new IllegalArgumentException("max: dim " + d + " of shape " + Shapes.str(shape) + " is empty");
        Tensor x = contiguous();
        int outer = Shapes.prod(shape, 0, d), inner = Shapes.prod(shape, d + 1, shape.length);
        int[] rs = reducedShape(shape, new int[]{d}, keepdim), arg = new int[outer * inner];
        Tensor out = empty(backend(), false, rs);
        backend().max(out.storage, arg, x.buf(), outer, shape[d], inner);
        return new MaxResult(out, new Index(arg, rs));
    }

    /** Softmax over the last dim. */
    public Tensor softmax() {
        int cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        Tensor out = empty(backend(), false, shape);
        backend().softmax(out.storage, buf(), numel() / Math.max(1, cols), cols);
        return out;
    }

    // ---------------------------------------------------------------- matmul

    /**
     * Batched matrix product: this (..., M, K) @ b (..., K, N) -> (..., M, N), batch dims broadcast.
     * A transposed view (e.g. w.transpose(-2, -1)) is read in place, not copied.
     */
    public Tensor matmul(Tensor b) {
        if (shape.length < 2 || b.shape.length < 2)
            throw new IllegalArgumentException("matmul: both operands need at least 2 dims, got " + Shapes.str(shape) + " and " + Shapes.str(b.shape));
        Backend be = backend("matmul", this, b);
        int M = shape[shape.length - 2], K = shape[shape.length - 1];
        int K2 = b.shape[b.shape.length - 2], N = b.shape[b.shape.length - 1];
        if (K != K2)
            throw new IllegalArgumentException("matmul: inner sizes differ: " + Shapes.str(shape) + " @ " + Shapes.str(b.shape) + " (" + K + " vs " + K2 + ")");
        int[] batch = Shapes.broadcast(Arrays.copyOf(shape, shape.length - 2), Arrays.copyOf(b.shape, b.shape.length - 2), "matmul (batch dims)");
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = M;
        outShape[batch.length + 1] = N;
        Tensor a = matrixOperand(this), bb = matrixOperand(b);
        int[] ab = outShape.clone(), bbShape = outShape.clone();
        ab[ab.length - 1] = K;
        bbShape[bbShape.length - 2] = K;
        Tensor ae = a.expand(ab), bbe = bb.expand(bbShape);
        boolean ta = isColMajor(a), tb = isColMajor(bb);
        int lda = ta ? ae.strides[ab.length - 1] : ae.strides[ab.length - 2];
        int ldb = tb ? bbe.strides[bbShape.length - 1] : bbe.strides[bbShape.length - 2];
        Tensor out = empty(be, false, outShape);
        be.matmul(ta, tb, M, N, K, batch, ae.storage, ae.offset, Arrays.copyOf(ae.strides, batch.length), lda,
                bbe.storage, bbe.offset, Arrays.copyOf(bbe.strides, batch.length), ldb, out.storage);
        return out;
    }

    /** The operand as is when its last two dims are row- or column-major; else a contiguous copy. */
    private static Tensor matrixOperand(Tensor x) {
        return isRowMajor(x) || isColMajor(x) ? x : x.copy();
    }

    private static boolean isRowMajor(Tensor x) {
        int r = x.shape.length, R = x.shape[r - 2], C = x.shape[r - 1], s0 = x.strides[r - 2], s1 = x.strides[r - 1];
        return (s1 == 1 || C == 1) && (s0 >= C || R == 1) && !(s1 == 0 && C > 1);
    }

    /** A transposed view of a row-major matrix: read by the kernel as op(X) = X^T. */
    private static boolean isColMajor(Tensor x) {
        int r = x.shape.length, R = x.shape[r - 2], C = x.shape[r - 1], s0 = x.strides[r - 2], s1 = x.strides[r - 1];
        return !isRowMajor(x) && s0 == 1 && (s1 >= R || C == 1);
    }

    // ---------------------------------------------------------------- indexing

    /**
     * out[..., j, ...] = this[..., index[..., j, ...], ...] along dim. The index has this tensor's rank; its
     * size along dim is the output's, and every other size equals this tensor's or is 1 (broadcast).
     */
    public Tensor gather(int dim, Index index) {
        int d = Shapes.dim(dim, shape.length, "gather");
        int inner = checkGatherIndex(d, index, shape, "gather");
        int outer = Shapes.prod(shape, 0, d), J = index.size(d);
        int[] os = shape.clone();
        os[d] = J;
        Tensor out = empty(backend(), false, os);
        backend().gather(out.storage, buf(), index.data(), outer, shape[d], J, Shapes.prod(shape, d + 1, shape.length), inner);
        return out;
    }

    /** A zero tensor of the given shape with src added at index along dim (the adjoint of gather). */
    public static Tensor scatterAdd(int[] shape, int dim, Index index, Tensor src) {
        int d = Shapes.dim(dim, shape.length, "scatterAdd");
        int inner = checkGatherIndex(d, index, shape, "scatterAdd");
        int[] expect = shape.clone();
        expect[d] = index.size(d);
        if (!Arrays.equals(src.shape, expect))
            throw new IllegalArgumentException("scatterAdd: source shape " + Shapes.str(src.shape) + " should be " + Shapes.str(expect));
        Tensor out = empty(src.backend(), true, shape);
        src.backend().scatterAdd(out.storage, src.buf(), index.data(), Shapes.prod(shape, 0, d), shape[d], index.size(d),
                Shapes.prod(shape, d + 1, shape.length), inner);
        return out;
    }

    /** Validates an index for gather along d and returns its inner size (the full inner size, or 1). */
    private static int checkGatherIndex(int d, Index index, int[] shape, String op) {
        int[] is = index.shape();
        if (is.length != shape.length)
            throw new IllegalArgumentException(op + ": index of shape " + Shapes.str(is) + " must have the rank of " + Shapes.str(shape));
        for (int i = 0; i < d; i++)
            if (is[i] != shape[i]) throw new IllegalArgumentException(op + ": index shape " + Shapes.str(is) + " differs from " + Shapes.str(shape) + " in dim " + i);
        int inner = Shapes.prod(shape, d + 1, shape.length), idxInner = Shapes.prod(is, d + 1, is.length);
        if (idxInner != inner && idxInner != 1)
            throw new IllegalArgumentException(op + ": index shape " + Shapes.str(is) + " must match " + Shapes.str(shape) + " after dim " + d + " or be 1 there");
        for (int i = d + 1; i < is.length; i++)
            if (idxInner != 1 && is[i] != shape[i]) throw new IllegalArgumentException(op + ": index shape " + Shapes.str(is) + " differs from " + Shapes.str(shape) + " in dim " + i);
        return idxInner;
    }

    /** Concatenates along dim; all other sizes must agree. */
    public static Tensor concat(int dim, Tensor... parts) {
        if (parts.length == 0) throw new IllegalArgumentException("concat: no tensors");
        backend("concat", parts);
        int[] s = parts[0].shape.clone();
        int d = Shapes.dim(dim, s.length, "concat");
        int total = 0;
        for (Tensor p : parts) {
            if (p.shape.length != s.length) throw new IllegalArgumentException("concat: shapes " + Shapes.str(parts[0].shape) + " and " + Shapes.str(p.shape) + " differ in rank");
            for (int i = 0; i < s.length; i++)
                if (i != d && p.shape[i] != s[i])
                    throw new IllegalArgumentException("concat: shapes " + Shapes.str(parts[0].shape) + " and " + Shapes.str(p.shape) + " differ in dim " + i);
            total += p.shape[d];
        }
        s[d] = total;
        Tensor out = zeros(parts[0].device(), s);
        int at = 0;
        for (Tensor p : parts) {
            out.narrowInto(d, at, p);
            at += p.shape[d];
        }
        return out;
    }

    /** Writes src into this contiguous tensor at [start, start + src.size(dim)) along dim. */
    public void narrowInto(int dim, int start, Tensor src) {
        Tensor dst = narrow(dim, start, src.shape[dim]);
        if (!Arrays.equals(dst.shape, src.shape))
            throw new IllegalArgumentException("narrowInto: source shape " + Shapes.str(src.shape) + " does not fit " + Shapes.str(dst.shape));
        backend("narrowInto", this, src).copy(storage, dst.offset, dst.strides, dst.shape, src.storage, src.offset, src.strides);
    }

    /** Stable ascending argsort along dim (of a CUDA tensor: downloaded and sorted on the host). */
    public Index argsort(int dim) {
        int d = Shapes.dim(dim, shape.length, "argsort");
        int last = shape.length - 1;
        Tensor x = transpose(d, last);
        int n = shape[d];
        int[] out = new int[x.numel()];
        backend().argsortRows(out, x.buf(), x.numel() / Math.max(1, n), n);
        if (d == last) return new Index(out, shape);
        // Put the sorted dim back in place: out is row-major in x's shape (dims d and last swapped). Ints, not floats:
        // an index over 2^24 would not survive a round trip through float.
        int[] back = new int[out.length], xs = x.shape, xst = Shapes.contiguousStrides(xs), idx = new int[shape.length];
        for (int i = 0; i < back.length; i++) {
            int p = 0;
            for (int k = 0; k < idx.length; k++) p += idx[k == d ? last : k == last ? d : k] * xst[k];
            back[i] = out[p];
            for (int k = idx.length - 1; k >= 0 && ++idx[k] == shape[k]; k--) idx[k] = 0;   // next row-major position
        }
        return new Index(back, shape);
    }

    // ---------------------------------------------------------------- comparison and printing

    /** Largest |a - b| over all elements (same shapes; either may be on either device: both are read on the host). */
    public float maxAbsDiff(Tensor b) {
        if (!Arrays.equals(shape, b.shape))
            throw new IllegalArgumentException("maxAbsDiff: shapes " + Shapes.str(shape) + " and " + Shapes.str(b.shape) + " differ");
        float[] x = toArray(), y = b.toArray();
        float m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(Shapes.str(shape));
        if (device() != Device.CPU) sb.append(' ').append(backend().device());
        float[] v = toArray();
        int show = Math.min(v.length, 8);
        sb.append(" [");
        for (int i = 0; i < show; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.4g", v[i]));
        if (v.length > show) sb.append(", ... (").append(v.length).append(" values)");
        return sb.append("]").toString();
    }
}
