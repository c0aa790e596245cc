package mae.autograd;

/** Whether ops record onto the tape: on by default; off inside a {@link #off()} scope (per thread). */
public final class Grad {
    private Grad() {}

    private static final ThreadLocal<Integer> OFF = ThreadLocal.withInitial(() -> 0);

    public static boolean enabled() { return OFF.get() == 0; }

    /** try (var s = Grad.off()) { ... }: no op inside records a tape. */
    public static Scope off() {
        OFF.set(OFF.get() + 1);
        return () -> OFF.set(OFF.get() - 1);
    }

    public interface Scope extends AutoCloseable { @Override void close(); }
}
