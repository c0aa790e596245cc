package mae.kernels;

/**
 * Reads of a float[] at byte offsets through sun.misc.Unsafe (and one kind of write, {@link #putPairs}), without the bounds check of an array read: for inner
 * loops whose caller checks the whole range once ({@link #check}). Why: C2 keeps some bounds checks of a micro-kernel's
 * broadcasts inside its loop, with their index arithmetic, and on AVX2 hosts whose front end bounds such loops that
 * costs time (Gemm.micro's comment has the measurements).
 *
 * <p>A JVM that refuses Unsafe's memory access (a later JDK, or --sun-misc-unsafe-memory-access=deny) gets array reads
 * at the index the offset names: the same values, slower; so does -Dmae.gemm.unsafe=false (tests run both).
 */
final class RawReads {
    private RawReads() {}

    private static final sun.misc.Unsafe U = unsafe();
    /** The byte offset of element 0 in a float[] (0 without Unsafe, where an offset is 4 x the index). */
    private static final long FLOAT0 = U != null ? U.arrayBaseOffset(float[].class) : 0;

    /** Unsafe, if this JVM lets it read a float[] and -Dmae.gemm.unsafe=false is not set; else null. */
    private static sun.misc.Unsafe unsafe() {
        if ("false".equals(System.getProperty("mae.gemm.unsafe"))) return null;
        try {
            java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);
            float[] probe = {0f, 42f};
            return u.getFloat(probe, u.arrayBaseOffset(float[].class) + 4L) == 42f ? u : null;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError refused) {
            return null;
        }
    }

    /** Whether the reads go through Unsafe. */
    static boolean throughUnsafe() {
        return U != null;
    }

    /** The byte offset of a[index]. */
    static long at(int index) {
        return FLOAT0 + 4L * index;
    }

    /** The value at byte offset p of a: unchecked, so p must lie in a range the caller has {@link #check}ed. */
    static float get(float[] a, long p) {
        return U != null ? U.getFloat(a, p) : a[(int) ((p - FLOAT0) >>> 2)];
    }

    /**
     * The two floats at byte offset p of a as one long (the first in its low half, as x86 stores them): unchecked, as
     * {@link #get}. Without Unsafe, the two array reads' raw bits.
     */
    static long getLong(float[] a, long p) {
        if (U != null) return U.getLong(a, p);
        int i = (int) ((p - FLOAT0) >>> 2);
        return Float.floatToRawIntBits(a[i]) & LOW | (long) Float.floatToRawIntBits(a[i + 1]) << 32;
    }

    /**
     * The one write here: v's halves as the two floats at byte offset p of a (low half first), for Gemm's packing of A,
     * which moves two floats per store; unchecked, so the caller checks the range first. Without Unsafe, two array
     * writes of the same bits.
     */
    static void putLong(float[] a, long p, long v) {
        if (U != null) { U.putLong(a, p, v); return; }
        int i = (int) ((p - FLOAT0) >>> 2);
        a[i] = Float.intBitsToFloat((int) v);
        a[i + 1] = Float.intBitsToFloat((int) (v >>> 32));
    }

    /**
     * Two rows' values at two columns, x = (row a: c, c + 1) and y = (row a + 1: c, c + 1) as {@link #getLong} read
     * them, stored transposed: rows (a, a + 1) of column c at byte offset d, and of column c + 1 at d + 4 stride, one
     * 8-byte store each. The packings of Gemm and attention's transposes move their values this way, half the loads
     * and stores of value by value; unchecked, as {@link #putLong}.
     */
    static void putPairs(float[] a, long d, int stride, long x, long y) {
        putLong(a, d, x & LOW | y << 32);
        putLong(a, d + 4L * stride, x >>> 32 | y & ~LOW);
    }

    /** The low 32 bits of a long. */
    private static final long LOW = 0xffffffffL;

    /**
     * The check that makes the reads of a block safe: element (r, k) at a[o + r rs + k ks] for rows r < rows and steps
     * k < steps lies within a; else IndexOutOfBoundsException naming the block (what: its name in the message).
     */
    static void check(String what, float[] a, int o, int rows, int rs, int steps, int ks) {
        long last = o + (long) (rows - 1) * rs + (long) (steps - 1) * ks;
        if (o < 0 || rs < 0 || ks < 0 || rows > 0 && steps > 0 && last >= a.length)
            throw new IndexOutOfBoundsException(what + " " + rows + " rows x " + steps + " steps from " + o + " (row stride " + rs
                    + ", step stride " + ks + ") reads up to index " + last + " of an array of " + a.length);
    }
}
