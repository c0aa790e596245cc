package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention, one fused op: for each of BH (batch x heads) slices of q, k, v (BH, T, hd):
 * out = softmax(q k^T * scale) v. Forward saves only lse (BH, T), the log-sum-exp of each score row; backward
 * recomputes the probabilities from it, so no (T, T) matrix is kept between the passes. The operands are
 * contiguous (BH, T, hd) arrays ({@link #forward}), or the heads of a fused qkv projection read where they lie
 * ({@link #forwardHeads}); both are one {@link Layout} each inside.
 *
 * <p>{@link #forwardRef}/{@link #backwardRef} are the plain loops. The fast versions work on tiles of
 * {@link #QT} query rows: a tile's scores (QT, T) are one small GEMM, its softmax is done in place, and its
 * outputs are GEMMs again (forward: O = P V; backward: dP = dO V^T, dV += P^T dO, dQ += dS K, dK += dS^T Q),
 * so the work runs in the GEMM micro-kernel and scores never take more than QT x T floats per thread.
 * Slices (batch x heads) are split over threads; the GEMMs inside a slice run on its thread.
 */
public final class Attention {
    private Attention() {}

    /**
     * Where the (B, H, T, hd) operands of one call lie in their arrays: element (b, h, t, d) at
     * off + b sb + h sh + t st + d (unit stride in d). Contiguous (BH, T, hd) is B = BH, H = 1; the heads of a fused
     * projection qkv (B, T, 3, H, hd) are q, k, v at off 0, D, 2D with sb = 3 T D, sh = hd, st = 3 D, read in place.
     */
    record Layout(int off, int sb, int sh, int st) {
        /** (BH, T, hd) contiguous, with B = BH and H = 1. */
        static Layout packed(int T, int hd) { return new Layout(0, T * hd, 0, hd); }
        /** Part `part` (0 q, 1 k, 2 v) of a fused (B, T, 3, H, hd) projection. */
        static Layout qkv(int part, int H, int T, int hd) { int D = H * hd; return new Layout(part * D, 3 * T * D, hd, 3 * D); }
        /** (B, T, H, hd): the heads side by side, as (B, T, D) for the output projection. */
        static Layout heads(int H, int T, int hd) { int D = H * hd; return new Layout(0, T * D, hd, D); }
        /** Where slice s = b H + h starts (its token 0, dim 0). */
        int base(int s, int H) { return off + s / H * sb + s % H * sh; }
    }

    public static void forwardRef(float[] out, float[] lse, float[] q, float[] k, float[] v, int BH, int T, int hd, float scale) {
        Layout c = Layout.packed(T, hd);
        forwardRef(out, c, lse, q, c, k, c, v, c, BH, 1, T, hd, scale);
    }

    /** The plain loops on any {@link Layout}; lse (B H, T) contiguous. */
    static void forwardRef(float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                           int B, int H, int T, int hd, float scale) {
        float[] p = new float[T];
        for (int s = 0; s < B * H; s++) {
            int qb = lq.base(s, H), kb = lk.base(s, H), vb = lv.base(s, H), ob = lo.base(s, H);
            for (int i = 0; i < T; i++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < T; j++) {
                    double d = 0;
                    for (int c = 0; c < hd; c++) d += (double) q[qb + i * lq.st + c] * k[kb + j * lk.st + c];
                    p[j] = (float) (scale * d);
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < T; j++) { p[j] = (float) Math.exp(p[j] - max); sum += p[j]; }
                for (int c = 0; c < hd; c++) {
                    double o = 0;
                    for (int j = 0; j < T; j++) o += p[j] * v[vb + j * lv.st + c];
                    out[ob + i * lo.st + c] = (float) (o / sum);
                }
                lse[s * T + i] = (float) (max + Math.log(sum));
            }
        }
    }

    /**
     * Adds dq, dk, dv given dout and the forward's out and lse:
     * P = exp(scale q k^T - lse); dv += P^T dout; dS = P * (dout v^T - rowsum(dout * out)); dq += scale dS k;
     * dk += scale dS^T q.
     */
    public static void backwardRef(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                   float[] out, float[] lse, int BH, int T, int hd, float scale) {
        Layout c = Layout.packed(T, hd);
        backwardRef(dq, c, dk, c, dv, c, dout, c, q, c, k, c, v, c, out, c, lse, BH, 1, T, hd, scale);
    }

    /** The plain loops on any {@link Layout}. */
    static void backwardRef(float[] dq, Layout ldq, float[] dk, Layout ldk, float[] dv, Layout ldv, float[] dout, Layout ldo,
                            float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv, float[] out, Layout lo, float[] lse,
                            int B, int H, int T, int hd, float scale) {
        for (int s = 0; s < B * H; s++) {
            int qb = lq.base(s, H), kb = lk.base(s, H), vb = lv.base(s, H), ob = lo.base(s, H), gb = ldo.base(s, H);
            int dqb = ldq.base(s, H), dkb = ldk.base(s, H), dvb = ldv.base(s, H);
            for (int i = 0; i < T; i++) {
                int qi = qb + i * lq.st, gi = gb + i * ldo.st;
                double D = 0;
                for (int c = 0; c < hd; c++) D += (double) dout[gi + c] * out[ob + i * lo.st + c];
                for (int j = 0; j < T; j++) {
                    int kj = kb + j * lk.st, vj = vb + j * lv.st;
                    double sc = 0, dp = 0;
                    for (int c = 0; c < hd; c++) { sc += (double) q[qi + c] * k[kj + c]; dp += (double) dout[gi + c] * v[vj + c]; }
                    double p = Math.exp(scale * sc - lse[s * T + i]);
                    double ds = p * (dp - D);
                    for (int c = 0; c < hd; c++) {
                        dv[dvb + j * ldv.st + c] += (float) (p * dout[gi + c]);
                        dq[dqb + i * ldq.st + c] += (float) (scale * ds * k[kj + c]);
                        dk[dkb + j * ldk.st + c] += (float) (scale * ds * q[qi + c]);
                    }
                }
            }
        }
    }

    /** Query rows per tile: a tile's scores (QT, T) are the only score storage, so memory stays O(QT T) per thread. */
    static final int QT = 32;

    public static void forward(float[] out, float[] lse, float[] q, float[] k, float[] v, int BH, int T, int hd, float scale) {
        Layout c = Layout.packed(T, hd);
        forward(out, c, lse, q, c, k, c, v, c, BH, 1, T, hd, scale);
    }

    /**
     * Attention on the H heads of a fused projection, read in place: qkv (B, T, 3, H, hd) holds q, k, v; out
     * (B, T, H, hd), the heads side by side as the output projection reads them; lse (B, H, T). The same sums, in
     * the same order, as {@link #forward} on the heads copied out into (B H, T, hd) arrays, without the copies (three
     * for q, k, v, one for the output, one for the gradient): the fmnist step's attention op, forward and backward,
     * batch 128, 2 threads, alternating in one JVM with another job on the cores: decoder (T 50, 4 heads of 32)
     * 20.6 -> 17.4 ms, encoder (T 13, 3 heads of 64) 4.7 -> 4.5 ms.
     */
    public static void forwardHeads(float[] out, float[] lse, float[] qkv, int B, int H, int T, int hd, float scale) {
        forward(out, Layout.heads(H, T, hd), lse, qkv, Layout.qkv(0, H, T, hd), qkv, Layout.qkv(1, H, T, hd), qkv, Layout.qkv(2, H, T, hd),
                B, H, T, hd, scale);
    }

    static void forward(float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                        int B, int H, int T, int hd, float scale) {
        if (KernelMode.reference()) { forwardRef(out, lo, lse, q, lq, k, lk, v, lv, B, H, T, hd, scale); return; }
        int tp = padded(T), qt = Math.min(QT, T);
        Parallel.forRange(B * H, 1, (s0, s1) -> {
            float[][] w = scratch(qt * tp, hd * tp, qt * S.length(), T * hd, T * hd);
            float[] p = w[0], kt = w[1], sums = w[2], qs = w[3], vs = w[4];
            for (int s = s0; s < s1; s++) {
                int ob = lo.base(s, H);
                transpose(k, lk.base(s, H), lk.st, T, hd, kt, tp);                               // K^T (hd, tp)
                copyRows(q, lq.base(s, H), lq.st, T, hd, qs);                                    // Q, V (T, hd)
                copyRows(v, lv.base(s, H), lv.st, T, hd, vs);
                for (int i0 = 0; i0 < T; i0 += QT) {
                    int rows = Math.min(QT, T - i0);
                    panel(rows, tp, hd, qs, i0 * hd, hd, 1, kt, 0, tp, p, 0, tp, false);                          // S = Q K^T
                    softmaxRows(p, rows, T, scale, lse, s * T + i0, sums);                                       // E = exp(scale S - max), 1 / rowsum(E)
                    panel(rows, hd, T, p, 0, tp, 1, vs, 0, hd, out, ob + i0 * lo.st, lo.st, false);              // O = E V
                    scaleRows(out, ob + i0 * lo.st, lo.st, rows, hd, sums);                                      // O = P V = (E V) / rowsum(E)
                }
            }
        });
    }

    /**
     * Per thread: the scratch arrays of {@link #forward} (5) and {@link #backward} (10), kept from call to call and
     * regrown when a call needs more, as Gemm's packing buffers are, instead of allocated on every call: bytes
     * allocated per training step (`bin/mae bench step`, all threads) ViT-B batch 8 10.85 -> 1.47 MB, fmnist batch
     * 128 1.41 -> 0.56 MB (Zen 4 VM). Nothing in them is read before the call writes it (a test fills them with NaN
     * first), except the padding columns of K^T and V^T, whose scores are masked and never read (see {@link #transpose}).
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[10][0]);

    /** This thread's scratch arrays, array i at least floats[i] long, holding whatever the last call left. */
    static float[][] scratch(int... floats) {
        float[][] w = SCRATCH.get();
        for (int i = 0; i < floats.length; i++) if (w[i].length < floats[i]) w[i] = new float[floats[i]];
        return w;
    }

    /**
     * t (cols, ldt) = m^T for the (rows, cols) block of m at mo with row stride ldm. t's columns past rows hold copies
     * of the last row (up to the next multiple of 8) or what the scratch held: the scores they give are masked (-inf
     * before the exp) and the products after the softmax stop at T, so nothing computed from them is read. Clearing
     * them cost hd calls of Arrays.fill per head, about what the transpose itself did at the fmnist encoder's T 13
     * (JFR samples). A last group of fewer than 8 rows is done as 8, its missing rows repeating the last one, instead
     * of row by row (each value a store to another cache line of t): the fmnist encoder's attention (T 13: rows 8-12),
     * forward and backward in one JVM against the row-by-row loop (`bench attention --against`, 2 threads, Zen 4
     * VM), per-call ratio medians 1.039 and 1.024.
     * Rows in groups of 8, so that the 8 values stored for a column lie side by side (one cache line, not 8); 8 rows
     * of m at a time stay in L1 even where they share its sets. Reading down all of m's columns instead, each value
     * came from another row 3 D floats on (a fused qkv), often a multiple of 4 KiB, so every row fell in the same L1
     * sets and each read missed (ViT-L's K, 197 x 64, one thread on the Zen 4 VM: 41-47 us per head, against 21-25
     * row by row, this and the two copies below together).
     * m is read through {@link RawReads} after one range check per call: with 8 array reads, 8 bounds checks per
     * column; the transposes had taken 25% of JFR's samples of the fmnist encoder's attention (T 13, hd 64, forward
     * and backward, 2 threads, Zen 3 VM). `bin/mae bench attention --against` the array reads (101 pairs, twice):
     * encoder 1.060, 1.074; decoder (T 50, 4 heads of 32) 1.042, 1.042. Two columns at a time, each pair of rows read
     * as two longs and stored as two ({@link RawReads#putPairs}: half the loads and stores of value by value), against the build
     * before (same command, twice): encoder 1.055, 1.066; decoder 1.012, 1.032.
     */
    private static void transpose(float[] m, int mo, int ldm, int rows, int cols, float[] t, int ldt) {
        RawReads.check("attention transpose: m", m, mo, rows, ldm, cols, 1);        // the unchecked reads below stay in it
        RawReads.check("attention transpose: t", t, 0, 1, 0, cols * ldt, 1);       // and the pairs' writes (t is (cols, ldt))
        int r = 0;
        for (; r < rows && r + 8 <= ldt; r += 8) {        // a last group of fewer than 8 rows repeats the last row into padding columns
            int last = rows - 1, i0 = mo + r * ldm, i1 = mo + Math.min(r + 1, last) * ldm, i2 = mo + Math.min(r + 2, last) * ldm,
                    i3 = mo + Math.min(r + 3, last) * ldm, i4 = mo + Math.min(r + 4, last) * ldm, i5 = mo + Math.min(r + 5, last) * ldm,
                    i6 = mo + Math.min(r + 6, last) * ldm, i7 = mo + Math.min(r + 7, last) * ldm;
            long p0 = RawReads.at(i0), p1 = RawReads.at(i1), p2 = RawReads.at(i2), p3 = RawReads.at(i3),
                    p4 = RawReads.at(i4), p5 = RawReads.at(i5), p6 = RawReads.at(i6), p7 = RawReads.at(i7);
            int c = 0, o = r;
            for (long d = RawReads.at(r), step = 8L * ldt; c + 2 <= cols; c += 2, o += 2 * ldt, d += step) {   // two columns at a time
                long q = 4L * c;
                RawReads.putPairs(t, d, ldt, RawReads.getLong(m, p0 + q), RawReads.getLong(m, p1 + q));
                RawReads.putPairs(t, d + 8, ldt, RawReads.getLong(m, p2 + q), RawReads.getLong(m, p3 + q));
                RawReads.putPairs(t, d + 16, ldt, RawReads.getLong(m, p4 + q), RawReads.getLong(m, p5 + q));
                RawReads.putPairs(t, d + 24, ldt, RawReads.getLong(m, p6 + q), RawReads.getLong(m, p7 + q));
            }
            for (; c < cols; c++, o += ldt) {
                long q = 4L * c;
                t[o] = RawReads.get(m, p0 + q); t[o + 1] = RawReads.get(m, p1 + q); t[o + 2] = RawReads.get(m, p2 + q); t[o + 3] = RawReads.get(m, p3 + q);
                t[o + 4] = RawReads.get(m, p4 + q); t[o + 5] = RawReads.get(m, p5 + q); t[o + 6] = RawReads.get(m, p6 + q); t[o + 7] = RawReads.get(m, p7 + q);
            }
        }
        for (; r < rows; r++)
            for (int c = 0, i = mo + r * ldm, o = r; c < cols; c++, o += ldt) t[o] = m[i + c];
    }

    /**
     * t (rows, cols) contiguous = the (rows, cols) block of m at mo with row stride ldm: one head's q or v out of a
     * fused qkv, whose rows lie 3 D floats apart (the same L1 sets, as above), so that the panels read rows hd apart.
     * ViT-L's attention forward on one thread (Zen 4 VM, per head): S = Q K^T 69-70 -> 65 us, O = P V 69-74 -> 59 us;
     * with the transpose, alternating launches, one thread: forward (1, 16, 197, 64) 3.6-4.0 -> 3.0-3.1 ms, backward
     * 7.1-7.8 -> 5.9-6.2 ms; the ViT-B decoder's heads of 32 (6 KiB apart) within the launches' spread either way.
     */
    private static void copyRows(float[] m, int mo, int ldm, int rows, int cols, float[] t) {
        for (int r = 0; r < rows; r++) System.arraycopy(m, mo + r * ldm, t, r * cols, cols);
    }

    /**
     * d[r] = the dot product of row r of g (rows of n, contiguous from go) and of o (row stride ldo, from oo), for r below
     * rows: the sums of {@link Gemm#dot} row by row (vector partials, then the lanes first to last, then the tail), in
     * two passes so that the rows' dependent lane chains overlap, as in {@link #softmaxRows} (d holds rows x L floats).
     * Row by row, the ViT-B decoder's D = rowsum(dO * O) (hd 32) took 4.5% of the attention kernel's samples (JFR).
     */
    private static void rowDots(float[] g, int go, float[] o, int oo, int ldo, int rows, int n, float[] d) {
        int L = S.length(), nv = S.loopBound(n);
        for (int r = 0; r < rows; r++) {
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0, a = go + r * n, b = oo + r * ldo; i < nv; i += L)
                acc = FloatVector.fromArray(S, g, a + i).fma(FloatVector.fromArray(S, o, b + i), acc);
            acc.intoArray(d, r * L);
        }
        for (int r = 0; r < rows; r++) {                         // row r's lanes lie at r L >= r
            float sum = 0;
            for (int i = 0, q = r * L; i < L; i++) sum += d[q + i];
            for (int i = nv, a = go + r * n, b = oo + r * ldo; i < n; i++) sum += g[a + i] * o[b + i];
            d[r] = sum;
        }
    }

    /** Zeros over the (B, H, T, hd) values of m that l places. */
    private static void clear(float[] m, Layout l, int B, int H, int T, int hd) {
        for (int s = 0; s < B * H; s++)
            for (int t = 0, o = l.base(s, H); t < T; t++, o += l.st) java.util.Arrays.fill(m, o, o + hd, 0f);
    }

    /** The (rows, cols) block of m at mo with row stride ldm = t (rows, cols) contiguous: {@link #copyRows} back. */
    private static void putRows(float[] t, int rows, int cols, float[] m, int mo, int ldm) {
        for (int r = 0; r < rows; r++) System.arraycopy(t, r * cols, m, mo + r * ldm, cols);
    }

    /**
     * c (rows, W) = a (rows, K) b (K, W), or c += that when add: a's element (r, k) at a[ao + r ars + k aks]
     * (row-major: ars the row stride, aks 1; a transposed matrix read in place: ars 1, aks its row stride), b with
     * row stride ldb, c with ldc. Attention's products are small (T = 13 to 197 tokens, head dims 32 to 64), where
     * packing operands and padding them to the GEMM's tiles cost more than the arithmetic (the tile GEMMs ran at
     * 30-60 GFLOP/s here, 6-12% of the 2-core Zen 5 VM's FMA peak). This kernel reads the operands in place and keeps
     * rows x 2 vectors of c in registers: 8 rows (16 accumulators) where there are 32 vector registers, else 4 (8
     * accumulators, within AVX2's 16), starting from c itself when add. A last group of fewer than 4 rows repeats its
     * last row (computed, not stored), so one loop body serves every shape. Columns past the last whole vector go to
     * {@link #panelTail}. No scale factor: the scores' 1/sqrt(hd) is applied in the softmax, which costs one vector
     * multiply per 16 scores instead of a scalar multiply before every broadcast (that multiply kept the broadcasts
     * from being loads folded into the FMAs). On the 2-core Zen 4 VM, one thread, a (32 x 64) x (64 x 192) product
     * (the ViT-B decoder's scores): with the multiply 54-72 GFLOP/s, without 66-91, 8 rows 86-99 (JDK 17 and 25).
     *
     * <p>Every load and store is written out here, not in a helper: inside the training step, C2 stopped inlining
     * a store helper into this method (NodeCountInliningCutoff) in some runs, so the accumulators were boxed on
     * every call and the kernel took 24% of the step's CPU samples instead of 6% (async-profiler, fmnist step, batch
     * 128, the cores shared with another job, helper force-inlined by -XX:CompileCommand for the comparison); quiet
     * runs and a JMH run of the kernel alone compiled it inlined (bench/results, 2026-11-30, stores inline).
     */
    static void panel(int rows, int W, int K, float[] a, int ao, int ars, int aks, float[] b, int bo, int ldb,
                      float[] c, int co, int ldc, boolean add) {
        final int L = S.length(), whole = W - W % L, pairs = whole - whole % (2 * L);
        int i0 = 0;
        if (EIGHT_ROWS && whole == L)                   // one vector wide (the scores of up to L tokens): every row here
            for (; i0 < rows; i0 += 8) eightRowsOne(i0, rows, K, a, ao, ars, aks, b, bo, ldb, c, co, ldc, add);
        if (EIGHT_ROWS && pairs > 0) {
            for (; i0 + 8 <= rows; i0 += 8) eightRows(i0, pairs, K, a, ao, ars, aks, b, bo, ldb, c, co, ldc, add);
            if (i0 > 0 && pairs < whole) fourRows(0, i0, pairs, whole, K, a, ao, ars, aks, b, bo, ldb, c, co, ldc, add);
        }
        fourRows(i0, rows, 0, whole, K, a, ao, ars, aks, b, bo, ldb, c, co, ldc, add);
        if (whole < W) panelTail(rows, whole, W, K, a, ao, ars, aks, b, bo, ldb, c, co, ldc, add);
    }

    /** Whether {@link #panel} runs 8-row groups: with 16-float vectors (AVX-512), which come with 32 registers. */
    private static final boolean EIGHT_ROWS = FloatVector.SPECIES_PREFERRED.length() >= 16;

    /** Rows [i0, i0 + 8) x columns [0, pairs) of {@link #panel}, pairs a multiple of 2 vectors. */
    private static void eightRows(int i0, int pairs, int K, float[] a, int ao, int ars, int aks, float[] b, int bo, int ldb,
                                  float[] c, int co, int ldc, boolean add) {
        final int L = S.length();
        int a0 = ao + i0 * ars, c0 = co + i0 * ldc;
        for (int w = 0; w < pairs; w += 2 * L) {
            FloatVector x0 = FloatVector.zero(S), y0 = x0, x1 = x0, y1 = x0, x2 = x0, y2 = x0, x3 = x0, y3 = x0,
                    x4 = x0, y4 = x0, x5 = x0, y5 = x0, x6 = x0, y6 = x0, x7 = x0, y7 = x0;
            int o = c0 + w;
            if (add) {
                x0 = FloatVector.fromArray(S, c, o); y0 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x1 = FloatVector.fromArray(S, c, o); y1 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x2 = FloatVector.fromArray(S, c, o); y2 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x3 = FloatVector.fromArray(S, c, o); y3 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x4 = FloatVector.fromArray(S, c, o); y4 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x5 = FloatVector.fromArray(S, c, o); y5 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x6 = FloatVector.fromArray(S, c, o); y6 = FloatVector.fromArray(S, c, o + L); o += ldc;
                x7 = FloatVector.fromArray(S, c, o); y7 = FloatVector.fromArray(S, c, o + L);
            }
            for (int kk = 0, bk = bo + w, ak = a0; kk < K; kk++, bk += ldb, ak += aks) {
                FloatVector u = FloatVector.fromArray(S, b, bk), t = FloatVector.fromArray(S, b, bk + L), e;
                e = FloatVector.broadcast(S, a[ak]);           x0 = u.fma(e, x0); y0 = t.fma(e, y0);
                e = FloatVector.broadcast(S, a[ak + ars]);     x1 = u.fma(e, x1); y1 = t.fma(e, y1);
                e = FloatVector.broadcast(S, a[ak + 2 * ars]); x2 = u.fma(e, x2); y2 = t.fma(e, y2);
                e = FloatVector.broadcast(S, a[ak + 3 * ars]); x3 = u.fma(e, x3); y3 = t.fma(e, y3);
                e = FloatVector.broadcast(S, a[ak + 4 * ars]); x4 = u.fma(e, x4); y4 = t.fma(e, y4);
                e = FloatVector.broadcast(S, a[ak + 5 * ars]); x5 = u.fma(e, x5); y5 = t.fma(e, y5);
                e = FloatVector.broadcast(S, a[ak + 6 * ars]); x6 = u.fma(e, x6); y6 = t.fma(e, y6);
                e = FloatVector.broadcast(S, a[ak + 7 * ars]); x7 = u.fma(e, x7); y7 = t.fma(e, y7);
            }
            o = c0 + w;
            x0.intoArray(c, o); y0.intoArray(c, o + L); o += ldc;
            x1.intoArray(c, o); y1.intoArray(c, o + L); o += ldc;
            x2.intoArray(c, o); y2.intoArray(c, o + L); o += ldc;
            x3.intoArray(c, o); y3.intoArray(c, o + L); o += ldc;
            x4.intoArray(c, o); y4.intoArray(c, o + L); o += ldc;
            x5.intoArray(c, o); y5.intoArray(c, o + L); o += ldc;
            x6.intoArray(c, o); y6.intoArray(c, o + L); o += ldc;
            x7.intoArray(c, o); y7.intoArray(c, o + L);
        }
    }

    /**
     * Rows [i0, i0 + 8) x the one vector of columns of {@link #panel} (W = L: the fmnist encoder's scores, 13 tokens):
     * 8 accumulators instead of fourRows' 4, each B vector loaded serving 8 FMAs. A last group of fewer than 8 rows
     * repeats its last row (computed, not stored). Forward and backward of that attention against fourRows, per-call
     * medians of 30 (1 thread, B 128, H 3, hd 64, Zen 4 VM): 1.02-1.05x and 1.02-1.08x.
     */
    private static void eightRowsOne(int i0, int rows, int K, float[] a, int ao, int ars, int aks, float[] b, int bo, int ldb,
                                     float[] c, int co, int ldc, boolean add) {
        int n = Math.min(8, rows - i0), l = n - 1;
        int a0 = ao + i0 * ars, a1 = a0 + Math.min(1, l) * ars, a2 = a0 + Math.min(2, l) * ars, a3 = a0 + Math.min(3, l) * ars,
                a4 = a0 + Math.min(4, l) * ars, a5 = a0 + Math.min(5, l) * ars, a6 = a0 + Math.min(6, l) * ars, a7 = a0 + Math.min(7, l) * ars;
        int c0 = co + i0 * ldc;
        FloatVector x0 = FloatVector.zero(S), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
        if (add) {
            x0 = FloatVector.fromArray(S, c, c0);
            if (n > 1) x1 = FloatVector.fromArray(S, c, c0 + ldc);
            if (n > 2) x2 = FloatVector.fromArray(S, c, c0 + 2 * ldc);
            if (n > 3) x3 = FloatVector.fromArray(S, c, c0 + 3 * ldc);
            if (n > 4) x4 = FloatVector.fromArray(S, c, c0 + 4 * ldc);
            if (n > 5) x5 = FloatVector.fromArray(S, c, c0 + 5 * ldc);
            if (n > 6) x6 = FloatVector.fromArray(S, c, c0 + 6 * ldc);
            if (n > 7) x7 = FloatVector.fromArray(S, c, c0 + 7 * ldc);
        }
        for (int kk = 0, bk = bo, ak = 0; kk < K; kk++, bk += ldb, ak += aks) {
            FloatVector u = FloatVector.fromArray(S, b, bk);
            x0 = u.fma(FloatVector.broadcast(S, a[a0 + ak]), x0); x1 = u.fma(FloatVector.broadcast(S, a[a1 + ak]), x1);
            x2 = u.fma(FloatVector.broadcast(S, a[a2 + ak]), x2); x3 = u.fma(FloatVector.broadcast(S, a[a3 + ak]), x3);
            x4 = u.fma(FloatVector.broadcast(S, a[a4 + ak]), x4); x5 = u.fma(FloatVector.broadcast(S, a[a5 + ak]), x5);
            x6 = u.fma(FloatVector.broadcast(S, a[a6 + ak]), x6); x7 = u.fma(FloatVector.broadcast(S, a[a7 + ak]), x7);
        }
        x0.intoArray(c, c0);
        if (n > 1) x1.intoArray(c, c0 + ldc);
        if (n > 2) x2.intoArray(c, c0 + 2 * ldc);
        if (n > 3) x3.intoArray(c, c0 + 3 * ldc);
        if (n > 4) x4.intoArray(c, c0 + 4 * ldc);
        if (n > 5) x5.intoArray(c, c0 + 5 * ldc);
        if (n > 6) x6.intoArray(c, c0 + 6 * ldc);
        if (n > 7) x7.intoArray(c, c0 + 7 * ldc);
    }

    /** a's value at byte offset p (RawReads: fourRows checks its rows once), broadcast to a vector. */
    private static FloatVector e(float[] a, long p) {
        return FloatVector.broadcast(S, RawReads.get(a, p));
    }

    /** Rows [from, to) x whole-vector columns [w0, whole) of {@link #panel}, in groups of 4 rows. */
    private static void fourRows(int from, int to, int w0, int whole, int K, float[] a, int ao, int ars, int aks, float[] b, int bo, int ldb,
                                 float[] c, int co, int ldc, boolean add) {
        final int L = S.length();
        RawReads.check("attention panel: a", a, ao + from * ars, to - from, ars, K, aks);
        long ks = 4L * aks;
        for (int i0 = from; i0 < to; i0 += 4) {
            int n = Math.min(4, to - i0), r1 = Math.min(1, n - 1), r2 = Math.min(2, n - 1), r3 = Math.min(3, n - 1);
            long a0 = RawReads.at(ao + i0 * ars), d1 = 4L * r1 * ars, d2 = 4L * r2 * ars, d3 = 4L * r3 * ars;
            int c0 = co + i0 * ldc, c1 = c0 + r1 * ldc, c2 = c0 + r2 * ldc, c3 = c0 + r3 * ldc, w = w0;
            for (; w + 2 * L <= whole; w += 2 * L) {
                FloatVector x0 = FloatVector.zero(S), y0 = x0, x1 = x0, y1 = x0, x2 = x0, y2 = x0, x3 = x0, y3 = x0;
                long q = a0;
                if (add) {
                    x0 = FloatVector.fromArray(S, c, c0 + w); y0 = FloatVector.fromArray(S, c, c0 + w + L);
                    x1 = FloatVector.fromArray(S, c, c1 + w); y1 = FloatVector.fromArray(S, c, c1 + w + L);
                    x2 = FloatVector.fromArray(S, c, c2 + w); y2 = FloatVector.fromArray(S, c, c2 + w + L);
                    x3 = FloatVector.fromArray(S, c, c3 + w); y3 = FloatVector.fromArray(S, c, c3 + w + L);
                }
                for (int kk = 0, bk = bo + w; kk < K; kk++, bk += ldb, q += ks) {
                    FloatVector u = FloatVector.fromArray(S, b, bk), t = FloatVector.fromArray(S, b, bk + L);
                    FloatVector e0 = e(a, q), e1 = e(a, q + d1);
                    x0 = u.fma(e0, x0); y0 = t.fma(e0, y0); x1 = u.fma(e1, x1); y1 = t.fma(e1, y1);
                    FloatVector e2 = e(a, q + d2), e3 = e(a, q + d3);
                    x2 = u.fma(e2, x2); y2 = t.fma(e2, y2); x3 = u.fma(e3, x3); y3 = t.fma(e3, y3);
                }
                x0.intoArray(c, c0 + w); y0.intoArray(c, c0 + w + L);
                if (n > 1) { x1.intoArray(c, c1 + w); y1.intoArray(c, c1 + w + L); }
                if (n > 2) { x2.intoArray(c, c2 + w); y2.intoArray(c, c2 + w + L); }
                if (n > 3) { x3.intoArray(c, c3 + w); y3.intoArray(c, c3 + w + L); }
            }
            for (; w < whole; w += L) {                                   // one last whole vector
                FloatVector x0 = FloatVector.zero(S), x1 = x0, x2 = x0, x3 = x0;
                long q = a0;
                if (add) {
                    x0 = FloatVector.fromArray(S, c, c0 + w); x1 = FloatVector.fromArray(S, c, c1 + w);
                    x2 = FloatVector.fromArray(S, c, c2 + w); x3 = FloatVector.fromArray(S, c, c3 + w);
                }
                for (int kk = 0, bk = bo + w; kk < K; kk++, bk += ldb, q += ks) {
                    FloatVector u = FloatVector.fromArray(S, b, bk);
                    x0 = u.fma(e(a, q), x0); x1 = u.fma(e(a, q + d1), x1); x2 = u.fma(e(a, q + d2), x2); x3 = u.fma(e(a, q + d3), x3);
                }
                x0.intoArray(c, c0 + w);
                if (n > 1) x1.intoArray(c, c1 + w);
                if (n > 2) x2.intoArray(c, c2 + w);
                if (n > 3) x3.intoArray(c, c3 + w);
            }
        }
    }

    /**
     * Columns [w0, W) of {@link #panel}, fewer than one vector, in scalar loops with the same operation order per
     * element (c or 0, then a x b added for k = 0, 1, ...). Masked vector loads and stores are not compiled
     * to vector code on JDK 17; attention's own calls never come here (W is a padded row or a head dimension, both
     * whole vectors on AVX2 and AVX-512), so this serves other shapes and narrower machines correctly.
     */
    private static void panelTail(int rows, int w0, int W, int K, float[] a, int ao, int ars, int aks, float[] b, int bo, int ldb,
                                  float[] c, int co, int ldc, boolean add) {
        for (int i = 0; i < rows; i++)
            for (int w = w0; w < W; w++) {
                float acc = add ? c[co + i * ldc + w] : 0f;
                for (int kk = 0; kk < K; kk++) acc = Math.fma(b[bo + kk * ldb + w], a[ao + i * ars + kk * aks], acc);
                c[co + i * ldc + w] = acc;
            }
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** A score row's stride: T rounded up to whole vectors, so that every row is read and written in whole vectors. */
    static int padded(int T) { return (T + S.length() - 1) / S.length() * S.length(); }

    /**
     * Replaces each of the first rows rows of p (stride {@link #padded}(T)), the unscaled scores Q K^T, by
     * e = exp(scale (S - max)), the softmax before its division, writes 1 / rowsum(e) to sums[r] and each row's
     * log-sum-exp (of the scaled scores) to lse[lo + r]. The division goes to the output rows instead
     * ({@link #scaleRows}: O = (e V) / rowsum(e), hd values a row where P has T): the decoder of ViT-B (T 197, hd 32)
     * had a pass over P of one load, multiply and store per 16 scores for every 2 vectors of output; with {@link #rowDots}
     * and the FMA {@link Vec#exp}, the kernel there 1.073, 1.078, 1.121 against the build before (`bin/mae bench attention
     * --against`, 101 pairs, 2 threads, Zen 4 VM). Whole vectors only, the lanes past T set to -inf (so exp gives 0 there);
     * {@link Vec#exp} uses IEEE operations only. Against the scalar Math.exp loops, interleaved in one JVM (12 rounds,
     * 2 threads, the VM loaded by other builds: ratios only) at BH 512, T 50, hd 32 (the fmnist decoder): forward
     * -22%, backward -16% time. The lane sums, added first to last for fixed bits ({@link Vec#lanesInOrder}: a
     * dependent chain of L lane reads and adds), are added up for all the rows after the rows' exp passes, from an
     * array, so the chains of different rows overlap: forward attention at BH 256, T 50, hd 32 on one thread,
     * 2.29 -> 1.81 and 2.05 -> 1.68 ms (JDK 25, alternating in one JVM, the other core busy), the same bits. Rows
     * of one vector or less take the same vector pass, the lanes past T masked: the fmnist encoder's 13 tokens, forward
     * 1.20-1.30x against scalar Math.exp loops (per-call medians of 30, 1 thread, B 128, H 3, hd 64, Zen 4 VM, JDK 17;
     * an earlier session had measured those loops 20-35% faster, before the lane sums moved after the rows' passes).
     */
    private static void softmaxRows(float[] p, int rows, int T, float scale, float[] lse, int lo, float[] sums) {
        int L = S.length(), tp = padded(T), last = tp - L;
        FloatVector ninf = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < rows; r++) {                         // max, then exp(S - max) in place; lane sums to sums[r L ..]
            int o = r * tp;
            FloatVector.fromArray(S, p, o + last).blend(ninf, S.indexInRange(last, T).not()).intoArray(p, o + last);
            FloatVector vmax = ninf;
            for (int j = 0; j < tp; j += L) vmax = vmax.max(FloatVector.fromArray(S, p, o + j));
            float max = vmax.reduceLanes(VectorOperators.MAX);   // exact whatever the order, unlike a sum
            FloatVector vm = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
            for (int j = 0; j < tp; j += L) {
                FloatVector e = Vec.exp(FloatVector.fromArray(S, p, o + j).sub(vm).mul(scale));
                e.intoArray(p, o + j);
                acc = acc.add(e);
            }
            acc.intoArray(sums, r * L);
            lse[lo + r] = max * scale;
        }
        for (int r = 0; r < rows; r++) {                         // each row's sum, lanes first to last (row r's lanes lie at r L >= r)
            float sum = 0;
            for (int i = 0, o = r * L; i < L; i++) sum += sums[o + i];
            sums[r] = sum;
        }
        for (int r = 0; r < rows; r++) {                         // lse = max + log(sum); 1 / sum for the output rows
            lse[lo + r] += (float) Math.log(sums[r]);
            sums[r] = 1 / sums[r];
        }
    }

    /** Each of the rows (cols values, row stride ld, from o) of m times f[r]. */
    private static void scaleRows(float[] m, int o, int ld, int rows, int cols, float[] f) {
        int L = S.length(), nv = S.loopBound(cols);
        for (int r = 0; r < rows; r++, o += ld) {
            int c = 0;
            for (; c < nv; c += L) FloatVector.fromArray(S, m, o + c).mul(f[r]).intoArray(m, o + c);
            for (; c < cols; c++) m[o + c] *= f[r];
        }
    }

    /**
     * p[o, o + T) = exp(scale p - lse) (p the unscaled scores; the probabilities again); ds[o, o + T) = scale p (ds - D); in whole vectors of
     * the padded stride, the lanes past T of p set to -inf first (exp 0, so ds is 0 there too).
     */
    private static void backwardRow(float[] p, float[] ds, int o, int T, float rowLse, float D, float scale) {
        int tp = padded(T), last = tp - S.length();
        FloatVector.fromArray(S, p, o + last).blend(Float.NEGATIVE_INFINITY, S.indexInRange(last, T).not()).intoArray(p, o + last);
        FloatVector vl = FloatVector.broadcast(S, rowLse), vd = FloatVector.broadcast(S, D);
        for (int j = 0; j < tp; j += S.length()) {
            FloatVector e = Vec.exp(FloatVector.fromArray(S, p, o + j).mul(scale).sub(vl));
            e.intoArray(p, o + j);
            e.mul(scale).mul(FloatVector.fromArray(S, ds, o + j).sub(vd)).intoArray(ds, o + j);
        }
    }

    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                float[] out, float[] lse, int BH, int T, int hd, float scale) {
        Layout c = Layout.packed(T, hd);
        backward(dq, c, dk, c, dv, c, dout, c, q, c, k, c, v, c, out, c, lse, BH, 1, T, hd, scale, false);
    }

    /**
     * {@link #forwardHeads} backwards: dqkv (B, T, 3, H, hd) = the gradients of the q, k and v it holds, given dout
     * and the forward's out, both (B, T, H, hd), and lse (B, H, T). Written, not added to: every value of dqkv is one of
     * q's, k's or v's, so the gradient needs no zeroing first, dQ's rows are stored rather than added to, and dK, dV
     * start from zeros in the scratch instead of being read from dqkv. Against adding into a zeroed dqkv (`bench
     * attention --against`, forward and backward, the fmnist step's shapes, 2 threads, Zen 4 VM): encoder (T 13) 1.047
     * and 1.042, decoder (T 50) 1.053 and 1.026 per-call ratio medians, the zeroing pass (in the op, not timed there)
     * saved besides.
     */
    public static void backwardHeads(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, int B, int H, int T, int hd, float scale) {
        Layout q = Layout.qkv(0, H, T, hd), k = Layout.qkv(1, H, T, hd), v = Layout.qkv(2, H, T, hd), o = Layout.heads(H, T, hd);
        backward(dqkv, q, dqkv, k, dqkv, v, dout, o, qkv, q, qkv, k, qkv, v, out, o, lse, B, H, T, hd, scale, true);
    }

    /** dq, dk, dv += the gradients, or = them when write (then nothing of them is read). */
    static void backward(float[] dq, Layout ldq, float[] dk, Layout ldk, float[] dv, Layout ldv, float[] dout, Layout ldo,
                         float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv, float[] out, Layout lo, float[] lse,
                         int B, int H, int T, int hd, float scale, boolean write) {
        if (KernelMode.reference()) {
            if (write) { clear(dq, ldq, B, H, T, hd); clear(dk, ldk, B, H, T, hd); clear(dv, ldv, B, H, T, hd); }
            backwardRef(dq, ldq, dk, ldk, dv, ldv, dout, ldo, q, lq, k, lk, v, lv, out, lo, lse, B, H, T, hd, scale);
            return;
        }
        int tp = padded(T), qt = Math.min(QT, T);
        Parallel.forRange(B * H, 1, (s0, s1) -> {
            float[][] w = scratch(qt * tp, qt * tp, hd * tp, hd * tp, T * hd, T * hd, T * hd, T * hd, T * hd, qt * S.length());
            float[] p = w[0], ds = w[1], kt = w[2], vt = w[3], qs = w[4], ks = w[5], gs = w[6], dks = w[7], dvs = w[8], d = w[9];
            for (int s = s0; s < s1; s++) {
                int gb = ldo.base(s, H), ob = lo.base(s, H), dqb = ldq.base(s, H), dkb = ldk.base(s, H), dvb = ldv.base(s, H);
                // Each head's q, k, dO and the dK, dV it adds to (or zeros) copied out as (T, hd), contiguous (see copyRows), and back.
                copyRows(q, lq.base(s, H), lq.st, T, hd, qs);
                copyRows(k, lk.base(s, H), lk.st, T, hd, ks);
                copyRows(dout, gb, ldo.st, T, hd, gs);
                if (write) { java.util.Arrays.fill(dks, 0, T * hd, 0f); java.util.Arrays.fill(dvs, 0, T * hd, 0f); }
                else { copyRows(dk, dkb, ldk.st, T, hd, dks); copyRows(dv, dvb, ldv.st, T, hd, dvs); }
                transpose(ks, 0, hd, T, hd, kt, tp);                                             // K^T, V^T (hd, tp)
                transpose(v, lv.base(s, H), lv.st, T, hd, vt, tp);
                for (int i0 = 0; i0 < T; i0 += QT) {
                    int rows = Math.min(QT, T - i0), qi = i0 * hd, gi = i0 * hd;
                    panel(rows, tp, hd, qs, qi, hd, 1, kt, 0, tp, p, 0, tp, false);                        // S = Q K^T
                    panel(rows, tp, hd, gs, gi, hd, 1, vt, 0, tp, ds, 0, tp, false);                      // dP = dO V^T
                    rowDots(gs, gi, out, ob + i0 * lo.st, lo.st, rows, hd, d);                                  // D = rowsum(dO * O)
                    for (int r = 0; r < rows; r++)
                        backwardRow(p, ds, r * tp, T, lse[s * T + i0 + r], d[r], scale);                    // P from S and the saved lse; scale dS
                    // P^T and dS^T are read in place, down the columns of P and dS (a's k stride the row stride tp): copying
                    // them out cost two scalar strided passes per score, about as much as the 5 products' FMAs at T 197,
                    // hd 32 (ViT-B decoder). Attention backward in the ViT-B step, batch 8, JDK 25, quiet, alternating
                    // launches: 138.6, 140.2, 135.7 -> 120.7, 110.4, 110.4 ms per step.
                    panel(T, hd, rows, p, 0, 1, tp, gs, gi, hd, dvs, 0, hd, true);                         // dV += P^T dO
                    panel(rows, hd, T, ds, 0, tp, 1, ks, 0, hd, dq, dqb + i0 * ldq.st, ldq.st, !write);      // dQ (+)= scale dS K: a tile's own rows
                    panel(T, hd, rows, ds, 0, 1, tp, qs, qi, hd, dks, 0, hd, true);                        // dK += scale dS^T Q
                }
                putRows(dks, T, hd, dk, dkb, ldk.st);
                putRows(dvs, T, hd, dv, dvb, ldv.st);
            }
        });
    }
}
