package mae.kernels.cuda;

import mae.kernels.Attention;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fused attention against mae.kernels.Attention.forwardRef/backwardRef (double sums) for every compiled head width, at the MAE's sequence lengths
 * (T = 50: 49 visible patches + cls; T = 197: all 196 + cls) and at awkward ones (1, 17, 33: one partial tile,
 * just over one tile of 32, several 16-row query tiles).
 *
 * <p>Tolerances: both sides work in FP32 with different summation orders. A score s = scale q.k over hd terms of
 * O(1) values carries an absolute error ~ sqrt(hd) 2^-24 |s|-scale ~ 1e-6; exp turns it into a relative error of P of
 * the same size; out, dv are P-weighted means of O(1) values, so ~1e-6 absolute; dq, dk add T terms of dS k with
 * dS ~ P * O(1): ~ sqrt(T) 1e-6. 5e-5 absolute plus 1e-4 relative leaves a wide margin and still catches any
 * wrong index or missing tile (errors ~ 0.1 and up).
 */
class CudaAttentionTest extends CudaTestBase {
    static final int[] T_VALUES = {1, 17, 33, 50, 197};

    @Test void forward_and_backward_match_cpu_for_every_head_width() {
        Random r = new Random(31);
        for (int hd : CudaKernels.ATTENTION_HEAD_WIDTHS)
            for (int T : T_VALUES) {
                int BH = T >= 197 ? 2 : 3, n = BH * T * hd;
                float scale = (float) (1 / Math.sqrt(hd));
                // scores of a few units: peaked enough that the online max matters, not so much that P is one-hot
                float[] q = gaussian(r, n, 1.5), k = gaussian(r, n, 1.5), v = gaussian(r, n, 1);
                float[] out = new float[n], lse = new float[BH * T];
                Attention.forwardRef(out, lse, q, k, v, BH, T, hd, scale);
                DeviceBuffer dq = dev(q), dk = dev(k), dv = dev(v), dOut = devZeros(n), dLse = devZeros(BH * T);
                CudaKernels.attentionForward(dOut.ptr(), dLse.ptr(), dq.ptr(), dk.ptr(), dv.ptr(), BH, T, hd, scale);
                String what = "attention hd=" + hd + " T=" + T + " BH=" + BH;
                assertClose(what + " out", out, dOut.toFloats(), 5e-5, 1e-4);
                assertClose(what + " lse", lse, dLse.toFloats(), 5e-5, 1e-5);

                // backward adds into random initial gradients; it is given the CPU's out and lse, so that it is
                // checked on its own
                float[] dout = gaussian(r, n, 1);
                float[] gq = gaussian(r, n, 1), gk = gaussian(r, n, 1), gv = gaussian(r, n, 1);
                float[] gqRef = gq.clone(), gkRef = gk.clone(), gvRef = gv.clone();
                Attention.backwardRef(gqRef, gkRef, gvRef, dout, q, k, v, out, lse, BH, T, hd, scale);
                DeviceBuffer Gq = dev(gq), Gk = dev(gk), Gv = dev(gv);
                CudaKernels.attentionBackward(Gq.ptr(), Gk.ptr(), Gv.ptr(), dev(dout).ptr(), dq.ptr(), dk.ptr(), dv.ptr(),
                        dev(out).ptr(), dev(lse).ptr(), BH, T, hd, scale);
                assertClose(what + " dq", gqRef, Gq.toFloats(), 5e-5 * Math.sqrt(T), 1e-4);
                assertClose(what + " dk", gkRef, Gk.toFloats(), 5e-5 * Math.sqrt(T), 1e-4);
                assertClose(what + " dv", gvRef, Gv.toFloats(), 5e-5, 1e-4);
            }
    }

    @Test void large_scores_do_not_overflow() {
        // scores up to ~100: exp would overflow without the running max
        Random r = new Random(32);
        int BH = 2, T = 70, hd = 64, n = BH * T * hd;
        float[] q = gaussian(r, n, 4), k = gaussian(r, n, 4), v = gaussian(r, n, 1);
        float[] out = new float[n], lse = new float[BH * T];
        Attention.forwardRef(out, lse, q, k, v, BH, T, hd, 0.5f);
        DeviceBuffer dOut = devZeros(n), dLse = devZeros(BH * T);
        CudaKernels.attentionForward(dOut.ptr(), dLse.ptr(), dev(q).ptr(), dev(k).ptr(), dev(v).ptr(), BH, T, hd, 0.5f);
        // scores of magnitude ~100 carry absolute errors ~ 100 * 2^-24 * sqrt(hd) ~ 5e-5 into P's exponent
        assertClose("out, large scores", out, dOut.toFloats(), 5e-4, 1e-3);
        assertClose("lse, large scores", lse, dLse.toFloats(), 1e-3, 1e-5);
    }

    @Test void unsupported_head_width_is_rejected() {
        DeviceBuffer b = devZeros(96);
        assertThrows(IllegalArgumentException.class,
                () -> CudaKernels.attentionForward(b.ptr(), b.ptr(), b.ptr(), b.ptr(), b.ptr(), 1, 1, 96, 1f));
    }
}
