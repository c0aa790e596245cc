package mae.kernels;

/** A contiguous operand of a {@link Backend} op: its storage and the element offset where it starts. */
public record Buf(Storage s, int off) {
    /** From element 0 of a storage (the outputs of ops). */
    public static Buf of(Storage s) { return new Buf(s, 0); }
}
