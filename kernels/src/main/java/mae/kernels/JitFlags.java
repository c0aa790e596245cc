package mae.kernels;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Two HotSpot limits every launcher of the engine raises (bin/mae, the JMH forks, the test JVMs), without which
 * C2 often compiles the vector kernels without their Vector API intrinsics.
 *
 * <p>Why. While C2 compiles one method it adds up, over every method it inlines and once per inlined copy, the
 * class-check traps and the deoptimizations recorded in their profiles. The Vector API's shared methods
 * (VectorOperators.opKind, lanewiseTemplate, ...) collect a few of each early on, from call sites where the
 * operator or the vector class varies, and a kernel such as GELU inlines them about 40 times. Past
 * PerMethodTrapLimit (100) traps or PerMethodRecompilationCutoff / 2 + 1 (201) deoptimizations, C2 stops
 * trusting receiver profiles for the rest of that compile: each virtual call gets a real call beside its inlined
 * path, the vector's species is then no longer a constant ("missing constant: vclass=DecodeN" under
 * -XX:+PrintIntrinsics), and every operation runs as its allocating Java fallback. Measured on JDK 17 (2-core AMD
 * EPYC, GELU forward's compile under -Xbatch, which gives this state in every launch): 128 traps and 206
 * deoptimizations counted; the fmnist step then allocates about 1 GB per step and is 15-20% slower, in about half
 * of the default launches. With both limits at 10,000: no fallback in any launch, -Xbatch included
 * (bench/results/2026-12-01-vm-amd-epyc-jit-limits.md). Raising one alone is not enough. The per-bytecode
 * limits, which stop a single call site from trapping over and over, are left as they are.
 */
public final class JitFlags {
    private JitFlags() {}

    public static final String TRAP_LIMIT = "-XX:PerMethodTrapLimit=10000";
    public static final String RECOMPILE_CUTOFF = "-XX:PerMethodRecompilationCutoff=10000";

    /** The flags above that this JVM runs without (below their values), as command-line options; empty when set. */
    public static List<String> missing() {
        List<String> out = new ArrayList<>();
        for (String flag : List.of(TRAP_LIMIT, RECOMPILE_CUTOFF)) if (!set(flag)) out.add(flag);
        return out;
    }

    private static boolean set(String flag) {
        String name = flag.substring(4, flag.indexOf('=')), want = flag.substring(flag.indexOf('=') + 1);
        try {
            var mx = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return Long.parseLong(mx.getVMOption(name).getValue()) >= Long.parseLong(want);
        } catch (RuntimeException notHotSpot) {
            return true;                                      // another VM: the HotSpot heuristics do not apply
        }
    }
}
