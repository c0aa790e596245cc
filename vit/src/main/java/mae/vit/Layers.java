package mae.vit;

import mae.autograd.F;
import mae.autograd.Var;
import mae.tensor.Rng;
import mae.tensor.Tensor;

/** The ViT's layers (timm 0.3.2 naming), each holding its parameters registered in a {@link Params}. */
public final class Layers {
    private Layers() {}

    /** y = x W^T + b, W (out, in). Xavier-uniform weight, zero bias (a placeholder weight when rng is null: see {@link Params#placeholder}). */
    public static final class Linear {
        public final Var weight, bias;

        public Linear(Params ps, String name, int in, int out, Rng rng) {
            weight = ps.add(name + ".weight", Params.xavierUniform(rng, out, in));
            bias = ps.add(name + ".bias", Tensor.zeros(out));
        }

        public Var forward(Var x) { return F.linear(x, weight, bias); } // (..., in) -> (..., out)
    }

    /** Layer norm over the last dim, weight 1, bias 0, eps 1e-6. */
    public static final class LayerNorm {
        public static final float EPS = 1e-6f;
        public final Var weight, bias;

        public LayerNorm(Params ps, String name, int dim) {
            weight = ps.add(name + ".weight", Tensor.ones(dim));
            bias = ps.add(name + ".bias", Tensor.zeros(dim));
        }

        public Var forward(Var x) { return F.layerNorm(x, weight, bias, EPS); }
    }

    /** fc1 (D -> hidden), exact GELU, fc2 (hidden -> D). */
    public static final class Mlp {
        public final Linear fc1, fc2;

        public Mlp(Params ps, String name, int dim, int hidden, Rng rng) {
            fc1 = new Linear(ps, name + ".fc1", dim, hidden, rng);
            fc2 = new Linear(ps, name + ".fc2", hidden, dim, rng);
        }

        public Var forward(Var x) { return fc2.forward(F.gelu(fc1.forward(x))); }
    }

    /**
     * Multi-head self-attention with one fused qkv projection: rows [0, D) of qkv are q, [D, 2D) k, [2D, 3D) v;
     * head h owns h*hd..(h+1)*hd inside each. Scores scaled by hd^-0.5.
     */
    public static final class Attention {
        public final Linear qkv, proj;
        public final int heads;

        public Attention(Params ps, String name, int dim, int heads, Rng rng) {
            if (dim % heads != 0) throw new IllegalArgumentException(name + ": width " + dim + " is not divisible by " + heads + " heads");
            this.heads = heads;
            qkv = new Linear(ps, name + ".qkv", dim, 3 * dim, rng);
            proj = new Linear(ps, name + ".proj", dim, dim, rng);
        }

        public Var forward(Var x) {
            int B = x.size(0), T = x.size(1), D = x.size(2), hd = D / heads;
            Var o = F.attentionHeads(qkv.forward(x), heads, (float) Math.pow(hd, -0.5));        // (B, T, 3D) as (B, T, 3, H, hd) -> (B, H, T, hd)
            return proj.forward(F.reshape(F.transpose(o, 1, 2), B, T, D));                        // (B, T, D)
        }
    }

    /** Pre-norm transformer block: x + attn(norm1(x)), then + mlp(norm2(x)). */
    public static final class Block {
        public final LayerNorm norm1, norm2;
        public final Attention attn;
        public final Mlp mlp;

        public Block(Params ps, String name, int dim, int heads, float mlpRatio, Rng rng) {
            norm1 = new LayerNorm(ps, name + ".norm1", dim);
            attn = new Attention(ps, name + ".attn", dim, heads, rng);
            norm2 = new LayerNorm(ps, name + ".norm2", dim);
            mlp = new Mlp(ps, name + ".mlp", dim, (int) (dim * mlpRatio), rng);
        }

        public Var forward(Var x) {
            x = F.add(x, attn.forward(norm1.forward(x)));
            return F.add(x, mlp.forward(norm2.forward(x)));
        }
    }

    /**
     * Patch embedding: a conv with kernel = stride = p, weight (D, C, p, p), as patchify + matmul.
     * Xavier-uniform on the weight viewed as (D, C*p*p). (N, C, H, W) -> (N, L, D).
     */
    public static final class PatchEmbed {
        public final Var weight, bias;
        public final int patch;

        public PatchEmbed(Params ps, String name, int inChans, int patch, int dim, Rng rng) {
            this.patch = patch;
            weight = ps.add(name + ".proj.weight", rng == null ? Params.placeholder(dim, inChans, patch, patch)
                    : Params.xavierUniform(rng, dim, inChans * patch * patch).view(dim, inChans, patch, patch));
            bias = ps.add(name + ".proj.bias", Tensor.zeros(dim));
        }

        public Var forward(Var imgs) { return F.patchEmbed(imgs, weight, bias); }
    }
}
