package mae.tensor.io;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** How the PyTorch checkpoint reader writes values and errors as text: Python's float repr, plain values, one-line messages. */
class CheckpointTextTest {
    /**
     * Python's repr of these doubles (checked with python3 -c "print(repr(x))"). Not the smallest subnormal: Java 17's
     * Double.toString, which this builds on, writes 4.9E-324 where Python writes 5e-324.
     */
    @Test void floats_are_written_as_python_writes_them() {
        Object[][] cases = {{0.00015, "0.00015"}, {65536.0, "65536.0"}, {1e-08, "1e-08"}, {1.5e16, "1.5e+16"}, {1e16, "1e+16"},
                {1e15, "1000000000000000.0"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {-2.5e-7, "-2.5e-07"}, {1e100, "1e+100"},
                {123456789.123, "123456789.123"}, {-0.0, "-0.0"}, {0.0, "0.0"}, {9999999999999998.0, "9999999999999998.0"},
                {0.1, "0.1"}, {-3.0, "-3.0"}, {Double.NaN, "nan"}, {Double.POSITIVE_INFINITY, "inf"}, {Double.NEGATIVE_INFINITY, "-inf"}};
        for (Object[] c : cases) assertEquals(c[1], TorchCheckpoint.pythonFloat((Double) c[0]), "repr(" + c[0] + ")");
    }

    @Test void plain_values_render_like_python_and_are_cut() {
        Map<Object, Object> m = new LinkedHashMap<>();
        m.put("lr", 1e-3);
        m.put(3L, List.of(true, false));
        m.put("it's", null);
        m.put("a\\b", new TorchCheckpoint.Opaque("argparse.Namespace", new LinkedHashMap<>(Map.of("x", 1L))));
        assertEquals("{'lr': 0.001, 3: [True, False], 'it\\'s': None, 'a\\\\b': Namespace(x=1)}", TorchCheckpoint.render(m));
        Map<String, Object> two = new LinkedHashMap<>();
        two.put("a", 1L);
        two.put("b", "c");
        assertEquals("Namespace(a=1, b='c')", TorchCheckpoint.render(new TorchCheckpoint.Opaque("Namespace", two)));
        Object deep = 1L;
        for (int i = 0; i < 150; i++) deep = List.of(deep);
        String d = TorchCheckpoint.render(deep);
        assertTrue(d.contains("[...]") && !d.contains("1"), "nesting past the unpickler's depth is elided: " + d.length());
        assertEquals(101 + 3 + 101, d.length(), "101 levels, then ...");
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 5000; i++) many.add("xy");
        String cut = TorchCheckpoint.render(many);
        assertEquals(10_003, cut.length());
        assertTrue(cut.endsWith("..."));
        Map<String, Object> big = new LinkedHashMap<>();
        for (int i = 0; i < 3000; i++) big.put("k" + i, i);
        assertEquals(10_003, TorchCheckpoint.render(big).length());
        Map<String, Object> attrs = new LinkedHashMap<>();
        for (int i = 0; i < 3000; i++) attrs.put("a" + i, (long) i);
        assertEquals(10_003, TorchCheckpoint.render(new TorchCheckpoint.Opaque("p.Q", attrs)).length());
        assertEquals("[]", TorchCheckpoint.render(List.of()));
        assertEquals("{}", TorchCheckpoint.render(Map.of()));
        assertEquals("7", TorchCheckpoint.render(7L));
    }

    @Test void messages_are_one_line_and_cut_only_when_too_long() {
        assertEquals("a\\u0001b\\u000ac\\u007f\\u009f\u00a0\\u2028\\u2029", TorchCheckpointException.oneLine("a\u0001b\nc\u007f\u009f\u00a0\u2028\u2029"));
        assertEquals("x".repeat(2000), TorchCheckpointException.oneLine("x".repeat(2000)), "2,000 characters fit");
        assertEquals("x".repeat(2000) + "...", TorchCheckpointException.oneLine("x".repeat(2001)));
        String escaped = TorchCheckpointException.oneLine("x".repeat(1998) + "\u0001");
        assertEquals("x".repeat(1998) + "\\u...", escaped, "an escape running past the limit is cut too");
        assertEquals(Path.of("f.pth") + ": bad\\u000athing", new TorchCheckpointException(Path.of("f.pth"), "bad\nthing").getMessage());
    }
}
