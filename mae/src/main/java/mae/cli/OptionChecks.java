package mae.cli;

import mae.model.MaeConfig;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.lang.reflect.Field;
import java.util.Collection;
import java.util.List;

/**
 * The one place where command-line values are checked: every option's value (given or default) against the
 * {@link Range} or {@link OneOf} declared next to it, before the command runs. A value outside is one line naming
 * the flag and what it allows, e.g. "--batch must be an integer from 1 to 65536, got 0". Checks that need two
 * options or the data (batch x accum, --k against the training images) are made by the command itself, still
 * before its work starts.
 */
final class OptionChecks {
    private OptionChecks() {}

    /** Checks every option of the command; throws IllegalArgumentException naming the first flag at fault. */
    static void check(CommandSpec spec) {
        for (OptionSpec o : spec.options()) {
            String problem = problem(o);
            if (problem != null) throw new IllegalArgumentException(problem);
        }
    }

    /** Checks the command and each subcommand on the parsed line. */
    static void check(CommandLine.ParseResult parsed) {
        for (CommandLine c : parsed.asCommandLineList()) check(c.getCommandSpec());
    }

    /** What is wrong with the option's value, or null. */
    static String problem(OptionSpec o) {
        Field f = field(o);
        if (f == null) return null;
        Object v = o.getValue();
        if (v == null) return null;                                   // not given, no default: the command's own meaning
        String flag = typedName(o);
        Range r = f.getAnnotation(Range.class);
        if (r != null && v instanceof Collection<?> c) {                // a list of numbers: each element
            for (Object e : c) { String p = e instanceof Number n ? range(flag, n, r) : null; if (p != null) return p; }
            return null;
        }
        if (r != null) return v instanceof Number n ? range(flag, n, r) : null;
        OneOf one = f.getAnnotation(OneOf.class);
        if (one != null) {
            if (v instanceof Collection<?> c) {
                for (Object e : c) { String p = oneOf(flag, String.valueOf(e).trim(), one); if (p != null) return p; }
                return null;
            }
            return oneOf(flag, String.valueOf(v), one);
        }
        return null;
    }

    /**
     * The name of the option as the user typed it (--batch_size, the official alias, or --batch), for messages;
     * its first name when it was not typed (a default value).
     */
    static String typedName(OptionSpec o) {
        CommandLine cl = o.command() == null ? null : o.command().commandLine();
        for (CommandLine c = cl; c != null; c = c.getParent()) {
            CommandLine.ParseResult p = c.getParseResult();
            if (p == null) continue;
            for (String arg : p.originalArgs())
                for (String name : o.names())
                    if (arg.equals(name) || arg.startsWith(name + "=")) return name;
        }
        return o.names()[0];
    }

    /** The annotated field behind an option; null for picocli's own (--help, --version). */
    static Field field(OptionSpec o) {
        return o.userObject() instanceof Field f ? f : null;
    }

    private static String range(String flag, Number n, Range r) {
        boolean integer = n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte;
        double x = n.doubleValue();
        boolean ok = Double.isFinite(x) && (r.minOpen() ? x > r.min() : x >= r.min()) && (r.maxOpen() ? x < r.max() : x <= r.max());
        if (ok) return null;
        return flag + " must be " + allowed(integer, r) + ", got " + n;
    }

    /** "an integer from 1 to 65536", "a number in [0, 1)", "a finite number above 0". */
    static String allowed(boolean integer, Range r) {
        boolean noMax = r.max() >= Double.MAX_VALUE || (integer && r.max() >= Long.MAX_VALUE);
        String what;
        if (integer) what = "an integer " + (noMax ? (r.minOpen() ? "above " : "of at least ") + num(r.min()) : "from " + num(r.min()) + " to " + num(r.max()));
        else if (noMax) what = "a finite number " + (r.minOpen() ? "above " : "of at least ") + num(r.min());
        else what = "a number in " + (r.minOpen() ? "(" : "[") + num(r.min()) + ", " + num(r.max()) + (r.maxOpen() ? ")" : "]");
        return r.note().isEmpty() ? what : what + " (" + r.note() + ")";
    }

    private static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : String.valueOf(d);
    }

    private static String oneOf(String flag, String v, OneOf one) {
        if (one.configs()) {
            if (MaeConfig.NAMED.containsKey(v)) return null;
            if (v.endsWith(".json") && java.nio.file.Files.isRegularFile(java.nio.file.Path.of(v))) return null;   // config keys in a file
            return flag + ": unknown config '" + v + "' (known: " + String.join(", ", MaeConfig.NAMED.keySet()) + "; or a JSON file of config keys)";
        }
        for (String w : one.value()) if (w.equalsIgnoreCase(v)) return null;
        return flag + ": unknown " + one.what() + " '" + v + "' (expected " + words(List.of(one.value())) + ")";
    }

    private static String words(List<String> w) {
        if (w.size() == 1) return w.get(0);
        return String.join(", ", w.subList(0, w.size() - 1)) + " or " + w.get(w.size() - 1);
    }
}
