package mae.autograd;

import mae.tensor.Index;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static mae.autograd.GradCheck.assertOk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One gradient check per differentiable op, on random inputs of awkward sizes (1, odd, broadcast dims). */
class GradCheckTest {
    final Rng rng = new Rng(7);

    Tensor randn(int... s) { return Tensor.randn(rng, s); }
    /** Values in [lo, hi): for log, sqrt, rsqrt, pow, div denominators. */
    Tensor uniform(float lo, float hi, int... s) { return Tensor.rand(rng, s).mul(hi - lo).add(lo); }

    @Test void add_sub_mul_div_with_broadcasting() {
        assertOk("add", v -> F.add(v[0], v[1]), randn(3, 1, 5), randn(4, 1));
        assertOk("sub", v -> F.sub(v[0], v[1]), randn(1, 7), randn(3, 1));
        assertOk("mul", v -> F.mul(v[0], v[1]), randn(2, 3, 5), randn(5));
        assertOk("div", v -> F.div(v[0], v[1]), randn(3, 5), uniform(0.5f, 2f, 3, 1));
        assertOk("add same shape", v -> F.add(v[0], v[1]), randn(9), randn(9));
    }

    @Test void scalar_ops() {
        assertOk("add scalar", v -> F.add(v[0], 2.5f), randn(3, 3));
        assertOk("mul scalar", v -> F.mul(v[0], -1.75f), randn(1, 5));
        assertOk("neg", v -> F.neg(v[0]), randn(7));
    }

    @Test void unary_math() {
        assertOk("exp", v -> F.exp(v[0]), randn(3, 5));
        assertOk("log", v -> F.log(v[0]), uniform(0.5f, 3f, 11));
        assertOk("sqrt", v -> F.sqrt(v[0]), uniform(0.5f, 3f, 2, 3));
        assertOk("rsqrt", v -> F.rsqrt(v[0]), uniform(0.5f, 3f, 2, 3));
        assertOk("pow 3", v -> F.pow(v[0], 3f), randn(5));
        assertOk("pow -1.5", v -> F.pow(v[0], -1.5f), uniform(0.5f, 2f, 5));
        assertOk("tanh", v -> F.tanh(v[0]), randn(4, 3));
        assertOk("erf", v -> F.erf(v[0]), randn(13));
        assertOk("gelu", v -> F.gelu(v[0]), randn(3, 7));
    }

    @Test void reductions() {
        assertOk("sum all", v -> F.sum(v[0]), randn(3, 5));
        assertOk("sum dim 1 keepdim", v -> F.sum(v[0], new int[]{1}, true), randn(2, 3, 5));
        assertOk("sum dims 0,2", v -> F.sum(v[0], new int[]{0, 2}, false), randn(2, 3, 5));
        assertOk("mean dim -1", v -> F.mean(v[0], new int[]{-1}, false), randn(3, 7));
        assertOk("mean all", v -> F.mean(v[0]), randn(1, 9));
        assertOk("var unbiased", v -> F.var(v[0], new int[]{-1}, true, true), randn(3, 7));
        assertOk("var biased dims 0,1", v -> F.var(v[0], new int[]{0, 1}, false, false), randn(3, 5, 2));
        // max: distinct values so that the maximum is unique and does not switch under the +-2h steps.
        assertOk("max dim 1", v -> F.max(v[0], 1, false), Tensor.of(permutedValues(3 * 5), 3, 5));
        assertOk("softmax", v -> F.softmax(v[0]), randn(3, 7));
        assertOk("softmax one column", v -> F.softmax(v[0]), randn(4, 1));
    }

    /** Values k/4 for a random permutation of k: pairwise at least 0.25 apart. */
    float[] permutedValues(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2f) / 4f;
        for (int i = n - 1; i > 0; i--) { int j = rng.nextInt(i + 1); float t = v[i]; v[i] = v[j]; v[j] = t; }
        return v;
    }

    @Test void matmul_batched_broadcast_and_transposed() {
        assertOk("matmul 2d", v -> F.matmul(v[0], v[1]), randn(3, 5), randn(5, 7));
        assertOk("matmul batched", v -> F.matmul(v[0], v[1]), randn(2, 3, 5), randn(2, 5, 1));
        assertOk("matmul broadcast batch", v -> F.matmul(v[0], v[1]), randn(2, 1, 3, 5), randn(3, 5, 4));
        assertOk("matmul a^T", v -> F.matmul(F.transpose(v[0], 0, 1), v[1]), randn(5, 3), randn(5, 7));
        assertOk("matmul b^T", v -> F.matmul(v[0], F.transpose(v[1], -2, -1)), randn(2, 3, 5), randn(2, 9, 5));
        assertOk("matmul 1 row", v -> F.matmul(v[0], v[1]), randn(1, 1), randn(1, 3));
    }

    @Test void linear_layerNorm_attention_patchEmbed() {
        assertOk("linear", v -> F.linear(v[0], v[1], v[2]), randn(2, 3, 5), randn(7, 5), randn(7));
        assertOk("linear no bias", v -> F.linear(v[0], v[1], null), randn(3, 5), randn(1, 5));
        assertOk("layerNorm", v -> F.layerNorm(v[0], v[1], v[2], 1e-6f), randn(2, 3, 7), randn(7), randn(7));
        // C = 2 is degenerate (the normalized row is +-1 whatever x is), so the smallest width checked is 3.
        assertOk("layerNorm C=3", v -> F.layerNorm(v[0], v[1], v[2], 1e-6f), randn(5, 3), randn(3), randn(3));
        assertOk("attention", v -> F.attention(v[0], v[1], v[2], 0.5f), randn(2, 3, 5, 4), randn(2, 3, 5, 4), randn(2, 3, 5, 4));
        assertOk("attention T=1", v -> F.attention(v[0], v[1], v[2], 0.3f), randn(1, 2, 1, 3), randn(1, 2, 1, 3), randn(1, 2, 1, 3));
        assertOk("attentionHeads", v -> F.attentionHeads(v[0], 2, 0.5f), randn(2, 5, 3 * 2 * 3));     // B 2, T 5, 2 heads of 3
        assertOk("attentionHeads T=1", v -> F.attentionHeads(v[0], 3, 0.4f), randn(1, 1, 3 * 3 * 2));
        assertOk("patchEmbed", v -> F.patchEmbed(v[0], v[1], v[2]), randn(2, 3, 6, 4), randn(5, 3, 2, 2), randn(5));
    }

    @Test void views() {
        assertOk("reshape", v -> F.mul(F.reshape(v[0], 5, 3), v[1]), randn(3, 5), randn(5, 3));
        assertOk("permute", v -> F.mul(F.permute(v[0], 2, 0, 1), v[1]), randn(2, 3, 5), randn(5, 2, 3));
        assertOk("narrow", v -> F.narrow(v[0], 1, 2, 3), randn(3, 7));
        assertOk("expand", v -> F.mul(F.expand(v[0], 4, 3, 5), v[1]), randn(3, 1), randn(4, 3, 5));
        assertOk("unsqueeze/squeeze", v -> F.squeeze(F.unsqueeze(v[0], 1), 1), randn(3, 5));
        // A var used several times, and through two views of itself.
        assertOk("reuse", v -> F.add(F.mul(v[0], v[0]), F.transpose(F.exp(v[0]), 0, 1)), randn(3, 3));
    }

    @Test void gather_concat_losses() {
        Index idx = new Index(new int[]{4, 0, 2, 2, 1, 3}, 2, 3, 1);   // rows picked per batch, broadcast over dim 2
        assertOk("gather rows", v -> F.gather(v[0], 1, idx), randn(2, 5, 3));
        Index full = new Index(new int[]{1, 0, 1, 1, 0, 0}, 3, 2);
        assertOk("gather elementwise", v -> F.gather(v[0], 1, full), randn(3, 2));
        assertOk("concat", v -> F.concat(1, v[0], v[1], v[2]), randn(2, 1, 3), randn(2, 4, 3), randn(2, 2, 3));
        assertOk("mseRows", v -> F.mseRows(v[0], v[1]), randn(2, 3, 5), randn(2, 3, 5));
        Tensor mask = Tensor.of(new float[]{1, 0, 1, 1, 0, 1}, 2, 3);
        assertOk("maskedMean", v -> F.maskedMean(v[0], mask), randn(2, 3));
        assertOk("crossEntropy", v -> F.crossEntropy(v[0], new int[]{2, 0, 4}, 0f), randn(3, 5));
        assertOk("crossEntropy smoothed", v -> F.crossEntropy(v[0], new int[]{1}, 0.1f), randn(1, 7));
    }

    /** The checker must reject a wrong rule: exp whose backward forgets the chain factor (g instead of g*y). */
    @Test void wrong_backward_rule_fails_the_check() {
        Function<Var[], Var> wrongExp = v -> F.record("wrong exp", v[0].value().exp(), g -> new Tensor[]{g}, v[0]);
        GradCheck.Result r = GradCheck.check(wrongExp, randn(3, 4));
        assertFalse(r.ok(GradCheck.DEFAULT_TOL), "a wrong backward passed: " + r);
        // And a subtle one: layer norm's dx without the mean(g * xhat) term.
        Function<Var[], Var> wrongLn = v -> {
            Tensor x = v[0].value();
            int C = x.size(-1);
            Tensor mean = x.mean(new int[]{-1}, true), xc = x.sub(mean);
            Tensor rstd = xc.square().mean(new int[]{-1}, true).add(1e-6f).rsqrt();
            return F.record("wrong layerNorm", xc.mul(rstd), g -> new Tensor[]{g.sub(g.mean(new int[]{-1}, true)).mul(rstd)}, v[0]);
        };
        GradCheck.Result r2 = GradCheck.check(wrongLn, randn(3, 5));
        assertFalse(r2.ok(GradCheck.DEFAULT_TOL), "a subtly wrong layer norm passed: " + r2);
        // The right rule passes the same check.
        assertTrue(GradCheck.check(v -> F.exp(v[0]), randn(3, 4)).ok(GradCheck.DEFAULT_TOL));
    }

    @Test void shape_errors_name_the_op_and_shapes() {
        Var a = Var.param(randn(2, 3)), b = Var.param(randn(4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.add(a, b));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2,3]") && e.getMessage().contains("[4,3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> F.matmul(a, b));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[2,3]") && e.getMessage().contains("[4,3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> F.linear(a, Var.param(randn(5, 4)), null));
        assertTrue(e.getMessage().contains("linear"), e.getMessage());
        IndexOutOfBoundsException o = assertThrows(IndexOutOfBoundsException.class, () -> F.sum(a, new int[]{2}, false));
        assertTrue(o.getMessage().contains("dim 2"), o.getMessage());
        o = assertThrows(IndexOutOfBoundsException.class, () -> F.gather(a, 1, new Index(new int[]{0, 3}, 2, 1)));
        assertTrue(o.getMessage().contains("3"), o.getMessage());
    }

    /** attentionHeads is attention on q, k, v narrowed out of qkv: the same output and the same qkv gradient, to the bit. */
    @Test void attention_on_packed_heads_is_attention_on_the_narrowed_heads() {
        int B = 3, T = 7, H = 2, hd = 4;
        Tensor x = randn(B, T, 3 * H * hd), dy = randn(B, H, T, hd);
        Var a = Var.param(x.copy()), b = Var.param(x.copy());
        Var heads = F.permute(F.reshape(b, B, T, 3, H, hd), 2, 0, 3, 1, 4);
        Var narrowed = F.attention(F.squeeze(F.narrow(heads, 0, 0, 1), 0), F.squeeze(F.narrow(heads, 0, 1, 1), 0), F.squeeze(F.narrow(heads, 0, 2, 1), 0), 0.35f);
        Var packed = F.attentionHeads(a, H, 0.35f);
        assertArrayEquals(narrowed.value().toArray(), packed.value().toArray());
        F.sum(F.mul(packed, Var.constant(dy))).backward();
        F.sum(F.mul(narrowed, Var.constant(dy))).backward();
        assertArrayEquals(b.grad().toArray(), a.grad().toArray());
        assertThrows(IllegalArgumentException.class, () -> F.attentionHeads(Var.constant(randn(2, 3, 10)), 2, 1f));   // 10 is not 3 x 2 x hd
    }
}
