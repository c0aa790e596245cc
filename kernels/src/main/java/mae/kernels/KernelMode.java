package mae.kernels;

/**
 * Which implementation the dispatching kernels run: the fast ones (default) or the plain-loop references
 * (double accumulation). Gradient checks run in reference mode, so that they test the backward rules with
 * exact-ish forwards; the fast kernels are tested against the references separately. -Dmae.reference=true
 * starts a whole program in reference mode.
 */
public final class KernelMode {
    private KernelMode() {}

    private static volatile boolean reference = Boolean.getBoolean("mae.reference");

    public static boolean reference() { return reference; }

    /** Sets the mode and returns the previous one (restore it in a finally block). */
    public static boolean setReference(boolean on) {
        boolean was = reference;
        reference = on;
        return was;
    }
}
