package mae.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The data cache sizes one core sees, as the operating system reports them (Linux:
 * /sys/devices/system/cpu/cpu0/cache/index*), for {@link GemmBlocking}. L3 is given per core: its size divided by
 * the cores that share it. Where the OS says nothing (another OS, a container hiding sysfs) the sizes of a common
 * x86 core stand in (32 KiB L1d, 1 MiB L2, 2 MiB L3 per core), and {@link #reported} is false.
 */
public record CacheSizes(long l1d, long l2, long l3PerCore, boolean reported) {
    public static final CacheSizes FALLBACK = new CacheSizes(32 << 10, 1 << 20, 2 << 20, false);

    public CacheSizes {
        if (l1d <= 0 || l2 <= 0 || l3PerCore <= 0) throw new IllegalArgumentException("cache sizes must be positive: L1d " + l1d + ", L2 " + l2 + ", L3 per core " + l3PerCore);
    }

    /** This machine's caches, read once. */
    public static CacheSizes machine() { return Holder.MACHINE; }

    private static final class Holder { static final CacheSizes MACHINE = read(Path.of("/sys/devices/system/cpu/cpu0/cache")); }

    /** Reads a sysfs cache folder (index0, index1, ... each with level, type, size, shared_cpu_list); FALLBACK where absent. */
    static CacheSizes read(Path dir) {
        long l1 = 0, l2 = 0, l3 = 0;
        for (int i = 0; ; i++) {
            Path d = dir.resolve("index" + i);
            if (!Files.isDirectory(d)) break;
            try {
                String type = Files.readString(d.resolve("type")).trim();
                if (type.equals("Instruction")) continue;
                int level = Integer.parseInt(Files.readString(d.resolve("level")).trim());
                long size = parseSize(Files.readString(d.resolve("size")).trim());
                int sharing = Math.max(1, cpuCount(Files.readString(d.resolve("shared_cpu_list")).trim()));
                if (level == 1) l1 = size;
                else if (level == 2) l2 = size / sharing;
                else if (level == 3) l3 = size / sharing;
            } catch (IOException | RuntimeException e) {
                return FALLBACK;                   // a half-readable folder is not trusted
            }
        }
        if (l1 == 0 || l2 == 0) return FALLBACK;
        return new CacheSizes(l1, l2, l3 > 0 ? l3 : l2, true);
    }

    /** "48K", "1024K", "32M" or plain bytes. */
    static long parseSize(String s) {
        String t = s.toUpperCase(Locale.ROOT);
        long unit = t.endsWith("K") ? 1 << 10 : t.endsWith("M") ? 1 << 20 : t.endsWith("G") ? 1 << 30 : 1;
        return Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
    }

    /** The number of CPUs in a list such as "0-3,8,10-11". */
    static int cpuCount(String list) {
        int n = 0;
        for (String part : list.split(",")) {
            if (part.isBlank()) continue;
            int dash = part.indexOf('-');
            n += dash < 0 ? 1 : Integer.parseInt(part.substring(dash + 1).trim()) - Integer.parseInt(part.substring(0, dash).trim()) + 1;
        }
        return n;
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "L1d %d KiB, L2 %d KiB, L3 %d KiB per core%s", l1d >> 10, l2 >> 10, l3PerCore >> 10, reported ? "" : " (assumed: the OS reported none)");
    }
}
