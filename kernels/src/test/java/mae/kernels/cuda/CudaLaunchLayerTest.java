package mae.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The launch layer's pure-Java parts, which run everywhere (no GPU needed, nothing here touches the driver). */
class CudaLaunchLayerTest {
    @Test void size_classes_round_up_by_at_most_a_quarter_with_four_classes_per_doubling() {
        assertEquals(256, CudaAllocator.sizeClass(0));
        assertEquals(256, CudaAllocator.sizeClass(1));
        assertEquals(256, CudaAllocator.sizeClass(256));
        assertEquals(512, CudaAllocator.sizeClass(257));
        assertEquals(1280, CudaAllocator.sizeClass(1025));
        assertEquals(1L << 30, CudaAllocator.sizeClass(1L << 30));
        long prev = 0;
        java.util.Set<Long> classes = new java.util.TreeSet<>();
        for (long b = 1; b < 1L << 34; b = b * 5 / 4 + 1) {
            long c = CudaAllocator.sizeClass(b);
            assertTrue(c >= b, b + " -> " + c);
            assertTrue(c >= prev, "monotone at " + b);
            if (b > 256) assertTrue(c <= b * 1.25 + 256, b + " -> " + c + " wastes more than 25%");
            assertEquals(c, CudaAllocator.sizeClass(c), "a class is its own class");
            prev = c;
        }
        for (long b = (1 << 20) + 1; b <= 1 << 21; b += 4096) classes.add(CudaAllocator.sizeClass(b));
        assertEquals(4, classes.size(), "classes in (1 MiB, 2 MiB]: " + classes);
        assertThrows(IllegalArgumentException.class, () -> CudaAllocator.sizeClass(-1));
    }

    @Test void strided_views_collapse_to_rank_four() {
        // contiguous (2,3,4,5,6) plus a bias over the last dim: merges to (120, 6)
        int[][] c = CudaKernels.collapse("t", new int[]{2, 3, 4, 5, 6}, new int[]{360, 120, 30, 6, 1}, new int[]{0, 0, 0, 0, 1});
        assertArrayEquals(new int[]{1, 1, 120, 6}, c[0]);
        assertArrayEquals(new int[]{0, 0, 6, 1}, c[1]);
        assertArrayEquals(new int[]{0, 0, 0, 1}, c[2]);
        // size-1 dims vanish, whatever their strides
        c = CudaKernels.collapse("t", new int[]{1, 7, 1}, new int[]{99, 1, 5});
        assertArrayEquals(new int[]{1, 1, 1, 7}, c[0]);
        assertArrayEquals(new int[]{0, 0, 0, 1}, c[1]);
        // a transposed view does not merge
        c = CudaKernels.collapse("t", new int[]{3, 4}, new int[]{1, 3});
        assertArrayEquals(new int[]{1, 1, 3, 4}, c[0]);
        assertArrayEquals(new int[]{0, 0, 1, 3}, c[1]);
        // five dims that cannot merge: rejected, naming the op and the shape
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.collapse(
                "unaryStrided", new int[]{2, 3, 2, 3, 2}, new int[]{36, 12, 6, 2, 1}, new int[]{1, 2, 6, 12, 36}));
        assertTrue(e.getMessage().contains("unaryStrided") && e.getMessage().contains("[2, 3, 2, 3, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaKernels.collapse("t", new int[]{2, 3}, new int[]{1}));
    }

    @Test void attention_shared_memory_fits_an_h100_and_needs_the_opt_in_only_for_wide_heads() {
        for (int hd : CudaKernels.ATTENTION_HEAD_WIDTHS)
            for (String w : new String[]{"forward", "dq", "dkv"}) {
                int bytes = CudaKernels.attentionSmem(w, hd);
                assertTrue(bytes <= 227 * 1024, w + " hd " + hd + ": " + bytes);
                // 4 blocks per SM (__launch_bounds__(128, 4)) must fit in an H100 SM's 228 KB
                assertTrue(4 * (bytes + 1024) <= 228 * 1024, w + " hd " + hd + ": 4 x " + bytes);
                if (hd <= 80) assertTrue(bytes <= 48 * 1024, w + " hd " + hd + " should not need the opt-in");
            }
    }

    @Test void unsupported_head_width_names_the_compiled_ones() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.checkHeadWidth("attentionForward", 96));
        assertTrue(e.getMessage().contains("96") && e.getMessage().contains("[32, 64, 80, 128]"), e.getMessage());
    }
}
