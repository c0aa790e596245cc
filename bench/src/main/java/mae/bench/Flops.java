package mae.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A work counter that JMH divides by the measured time: in Throughput mode with seconds as the output unit,
 * the secondary result {@code gflop} reads as GFLOP/s.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Flops {
    /** Floating-point operations done, in units of 10^9. */
    public double gflop;

    @Setup(Level.Iteration)
    public void clear() { gflop = 0; }
}
