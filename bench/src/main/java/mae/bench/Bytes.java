package mae.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A memory-traffic counter that JMH divides by the measured time: the secondary result {@code gbyte} reads as
 * GB/s, for memory-bound kernels (each benchmark counts the bytes its kernel must read and write at least once).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Bytes {
    /** Bytes moved, in units of 10^9. */
    public double gbyte;

    @Setup(Level.Iteration)
    public void clear() { gbyte = 0; }
}
