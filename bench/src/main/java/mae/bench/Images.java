package mae.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A work counter that JMH divides by the measured time: in Throughput mode with seconds as the output unit,
 * the secondary result {@code images} reads as images/s.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Images {
    /** Training images processed. */
    public long images;

    @Setup(Level.Iteration)
    public void clear() { images = 0; }
}
