package mae.tensor;

import java.util.Arrays;

/**
 * A small seeded random generator (xoshiro256**, seeded through SplitMix64) whose whole state can be
 * saved and restored, so that a resumed training run draws exactly the numbers an uninterrupted one would.
 * java.util.Random hides its state; this one does not.
 */
public final class Rng {
    private final long[] s = new long[4];

    public Rng(long seed) {
        long x = seed;
        for (int i = 0; i < 4; i++) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            s[i] = z ^ (z >>> 31);
        }
    }

    /** The four state words, for checkpoints. */
    public long[] state() { return s.clone(); }

    /** Restores a state saved with {@link #state()}. */
    public void setState(long[] state) {
        if (state.length != 4) throw new IllegalArgumentException("Rng state must have 4 words, got " + state.length);
        System.arraycopy(state, 0, s, 0, 4);
    }

    public long nextLong() {
        long result = Long.rotateLeft(s[1] * 5, 7) * 9;
        long t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = Long.rotateLeft(s[3], 45);
        return result;
    }

    /** Uniform in [0, 1), 24 random bits: every value is an exact float. */
    public float nextFloat() { return (nextLong() >>> 40) * 0x1.0p-24f; }

    /** Uniform in [0, 1), 53 random bits. */
    public double nextDouble() { return (nextLong() >>> 11) * 0x1.0p-53; }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        return (int) (((nextLong() >>> 33) * bound) >>> 31);
    }

    /** Standard normal (Box-Muller, one value per call so that the state alone defines the stream). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    @Override public String toString() { return "Rng" + Arrays.toString(s); }
}
