package mae.explain;

import mae.autograd.Grad;
import mae.autograd.Var;
import mae.tensor.Tensor;
import mae.vit.Layers.Block;

/**
 * The attention probabilities of one transformer block, computed from that block's own layers (its norm1
 * and fused qkv projection, the loaded weights) on the block's actual input as the traced forward pass saw
 * it. As a check that these are the probabilities the engine used, they are multiplied by v and sent through
 * the block's proj, and compared with the block's attention output.
 */
public final class AttentionMaps {
    private AttentionMaps() {}

    /** probs (B, H, T, T): softmax over keys of q k^T * hd^-0.5; maxAbsDiff: the check against the engine. */
    public record Maps(Tensor probs, float maxAbsDiff) {
        /** Query t's weights over all T keys, head h, image 0. */
        public float[] row(int head, int query) {
            int T = probs.size(2);
            return probs.narrow(0, 0, 1).narrow(1, head, 1).narrow(2, query, 1).reshape(T).toArray();
        }

        /** The mean over heads of query t's weights, image 0. */
        public float[] meanRow(int query) {
            int H = probs.size(1), T = probs.size(2);
            float[] m = new float[T];
            for (int h = 0; h < H; h++) {
                float[] r = row(h, query);
                for (int j = 0; j < T; j++) m[j] += r[j] / H;
            }
            return m;
        }
    }

    /** The block's attention for its input x (B, T, D). */
    public static Maps of(Block block, Tensor x) {
        try (Grad.Scope s = Grad.off()) {
            int B = x.size(0), T = x.size(1), D = x.size(2), H = block.attn.heads, hd = D / H;
            Var normed = block.norm1.forward(Var.constant(x));                               // (B, T, D)
            Tensor qkv = block.attn.qkv.forward(normed).value()
                    .reshape(B, T, 3, H, hd).permute(2, 0, 3, 1, 4);                            // (3, B, H, T, hd)
            Tensor q = part(qkv, 0), k = part(qkv, 1), v = part(qkv, 2);                       // (B, H, T, hd)
            Tensor probs = q.matmul(k.transpose(-2, -1).contiguous()).mul((float) Math.pow(hd, -0.5)).softmax(); // (B, H, T, T)
            Tensor heads = probs.matmul(v).transpose(1, 2).reshape(B, T, D);                   // (B, T, D)
            Tensor mine = block.attn.proj.forward(Var.constant(heads)).value();
            Tensor engine = block.attn.forward(normed).value();
            return new Maps(probs, mine.maxAbsDiff(engine));
        }
    }

    private static Tensor part(Tensor qkv, int i) { return qkv.narrow(0, i, 1).squeeze(0).contiguous(); }
}
