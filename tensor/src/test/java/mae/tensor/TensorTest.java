package mae.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TensorTest {
    static Tensor seq(int... shape) { return Tensor.arange(Shapes.numel(shape)).view(shape); }

    @Test void views_share_storage_and_index_correctly() {
        Tensor x = seq(2, 3, 4);
        Tensor p = x.permute(2, 0, 1);                 // (4, 2, 3)
        assertArrayEquals(new int[]{4, 2, 3}, p.shape());
        assertEquals(x.get(1, 2, 3), p.get(3, 1, 2));
        assertFalse(p.isContiguous());
        Tensor n = x.narrow(2, 1, 2);                  // (2, 3, 2)
        assertEquals(x.get(1, 0, 2), n.get(1, 0, 1));
        n.set(-5, 0, 0, 0);
        assertEquals(-5, x.get(0, 0, 1), "narrow is a view");
        Tensor t = x.transpose(0, 2).contiguous();
        assertTrue(t.isContiguous());
        assertEquals(x.get(1, 2, 3), t.get(3, 2, 1));
        assertEquals(x.get(1, 1, 1), x.select(0, 1).get(1, 1));
        assertArrayEquals(new int[]{2, 1, 3, 4}, x.unsqueeze(1).shape());
        assertArrayEquals(new int[]{2, 3, 4}, x.unsqueeze(1).squeeze(1).shape());
        assertArrayEquals(new int[]{6, 4}, x.view(-1, 4).shape());
        assertThrows(IllegalStateException.class, () -> p.view(24), "a permuted tensor cannot be viewed");
        assertArrayEquals(p.toArray(), p.reshape(24).toArray());
    }

    @Test void expand_and_broadcasting() {
        Tensor a = Tensor.of(new float[]{1, 2, 3}, 3, 1);
        Tensor b = Tensor.of(new float[]{10, 20}, 2);
        Tensor c = a.add(b);                            // (3, 2)
        assertArrayEquals(new float[]{11, 21, 12, 22, 13, 23}, c.toArray());
        assertArrayEquals(new float[]{1, 1, 2, 2, 3, 3}, a.expand(3, 2).toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> seq(2, 3).add(seq(3, 2)));
        assertTrue(e.getMessage().contains("[2,3]") && e.getMessage().contains("[3,2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> seq(2, 3).expand(4, 3));
    }

    @Test void reductions() {
        Tensor x = seq(2, 3);
        assertArrayEquals(new float[]{3, 5, 7}, x.sum(new int[]{0}, false).toArray());
        assertArrayEquals(new int[]{2, 1}, x.sum(new int[]{1}, true).shape());
        assertEquals(15, x.sum().item());
        assertEquals(2.5f, x.mean().item());
        assertArrayEquals(new float[]{1, 1}, x.var(new int[]{1}, true, false).toArray(), 1e-6f);
        assertArrayEquals(new float[]{2f / 3, 2f / 3}, x.var(new int[]{1}, false, false).toArray(), 1e-6f);
        Tensor.MaxResult m = Tensor.of(new float[]{1, 5, 5, 2, 0, 3}, 2, 3).max(1, false);
        assertArrayEquals(new float[]{5, 3}, m.values().toArray());
        assertArrayEquals(new int[]{1, 2}, m.indices().data(), "first maximum wins");
        float[] s = seq(2, 3).softmax().toArray();
        assertEquals(1, s[0] + s[1] + s[2], 1e-6);
    }

    @Test void matmul_batched_transposed_and_broadcast() {
        Tensor a = seq(2, 2, 3), b = seq(3, 2);
        Tensor c = a.matmul(b);                         // (2, 2, 2), b broadcast over the batch
        assertArrayEquals(new float[]{10, 13, 28, 40, 46, 67, 64, 94}, c.toArray());
        Tensor bt = seq(2, 3).transpose(0, 1);          // a transposed view
        assertArrayEquals(a.matmul(bt.contiguous()).toArray(), a.matmul(bt).toArray());
        assertArrayEquals(seq(3, 2).transpose(0, 1).contiguous().matmul(seq(3, 4)).toArray(),
                seq(3, 2).transpose(0, 1).matmul(seq(3, 4)).toArray());
    }

    @Test void gather_scatter_concat_argsort() {
        Tensor x = seq(2, 4, 2);
        Index rows = new Index(new int[]{3, 0, 1, 1}, 2, 2, 1);
        Tensor g = x.gather(1, rows);
        assertArrayEquals(new float[]{6, 7, 0, 1, 10, 11, 10, 11}, g.toArray());
        Tensor back = Tensor.scatterAdd(new int[]{2, 4, 2}, 1, rows, Tensor.ones(2, 2, 2));
        assertArrayEquals(new float[]{1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 0, 0}, back.toArray());
        Tensor cat = Tensor.concat(1, seq(2, 1), seq(2, 2).add(10));
        assertArrayEquals(new float[]{0, 10, 11, 1, 12, 13}, cat.toArray());
        Index order = Tensor.of(new float[]{0.3f, 0.1f, 0.2f, 0.9f, 0.8f, 0.7f}, 2, 3).argsort(1);
        assertArrayEquals(new int[]{1, 2, 0, 2, 1, 0}, order.data());
        assertArrayEquals(new int[]{2, 0, 1, 2, 1, 0}, order.argsort().data(), "argsort of a permutation inverts it");
        Index cols = Tensor.of(new float[]{3, 1, 2, 0}, 2, 2).argsort(0);
        assertArrayEquals(new int[]{1, 1, 0, 0}, cols.data());
    }

    @Test void errors_name_what_is_wrong() {
        Tensor x = seq(2, 3);
        assertTrue(assertThrows(IndexOutOfBoundsException.class, () -> x.get(2, 0)).getMessage().contains("index 2"));
        assertTrue(assertThrows(IndexOutOfBoundsException.class, () -> x.narrow(1, 2, 2)).getMessage().contains("narrow"));
        assertTrue(assertThrows(IndexOutOfBoundsException.class, () -> x.sum(new int[]{-3}, false)).getMessage().contains("dim -3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> x.matmul(x)).getMessage().contains("[2,3] @ [2,3]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tensor.concat(0, x, seq(2, 2))).getMessage().contains("concat"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> x.view(4, -1)).getMessage().contains("[4,-1]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> x.gather(1, new Index(new int[]{0, 0, 0}, 3, 1))).getMessage().contains("gather"));
    }

    @Test void creation_and_printing() {
        assertEquals(Tensor.randn(new Rng(5), 4).toString(), Tensor.randn(new Rng(5), 4).toString(), "seeded");
        assertNotEquals(Tensor.rand(new Rng(5), 4).toString(), Tensor.rand(new Rng(6), 4).toString());
        assertArrayEquals(new float[]{0, 0.5f, 1f, 1.5f}, Tensor.arange(0, 2, 0.5f).toArray());
        assertTrue(Tensor.zeros(2, 3).toString().startsWith("Tensor[2,3]"));
        assertEquals(7f, Tensor.full(7, 1, 1).item());
        Tensor one = Tensor.ones(1);
        assertSame(one, one.to(Device.CPU), "already there: no copy");   // to(CUDA): CudaUnavailableTest, CudaTensorChecks
    }
}
