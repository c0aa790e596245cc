package mae.io;

import mae.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonFileTest {
    @Test void objects_round_trip_with_typed_values_in_insertion_order(@TempDir Path tmp) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", "1");
        m.put("quote\"d", "line\nbreak\\");
        m.put("n", 12L);
        m.put("x", 1.5e-3);
        m.put("on", true);
        m.put("none", Json.NULL);
        Path f = tmp.resolve("x.json");
        JsonFile.write(f, m);
        assertEquals(m, Json.readObject(f));
        assertEquals("{\n  \"a\": \"1\",\n  \"quote\\\"d\": \"line\\nbreak\\\\\",\n  \"n\": 12,\n  \"x\": 0.0015,\n  \"on\": true,\n  \"none\": null\n}\n",
                Files.readString(f));
        JsonFile r = JsonFile.read(f);
        assertEquals("line\nbreak\\", r.string("quote\"d"));
        assertEquals(12, r.intValue("n"));
        assertEquals(1.5e-3, r.doubleValue("x"));
        assertEquals(12.0, r.doubleValue("n"), "an integer is a number too");
        assertTrue(r.booleanValue("on"));
        assertNull(r.string("none"));
        assertEquals("cpu", r.stringOr("device", "cpu"));

        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"a\": ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonFile.read(bad));
        assertTrue(e.getMessage().startsWith(bad + ": malformed JSON: "), e.getMessage());
        Files.writeString(bad, "[1, 2]");
        e = assertThrows(IllegalArgumentException.class, () -> JsonFile.read(bad));
        assertEquals(bad + ": expected a JSON object, found an array", e.getMessage());
    }

    @Test void values_written_as_strings_by_older_runs_read_as_their_types(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("state.json");
        Files.writeString(f, "{\n  \"step\": \"12\",\n  \"rng0\": \"-6148914691236517206\",\n  \"blr\": \"0.0015\",\n  \"loss\": \"NaN\",\n"
                + "  \"norm_pix\": \"true\",\n  \"data\": \"\"\n}\n");
        JsonFile r = JsonFile.read(f);
        assertEquals(12, r.intValue("step"));
        assertEquals(-6148914691236517206L, r.longValue("rng0"));
        assertEquals(0.0015, r.doubleValue("blr"));
        assertTrue(Double.isNaN(r.doubleValue("loss")));
        assertTrue(r.booleanValue("norm_pix"));
        assertNull(r.string("data", true), "an empty string stood for none");
        assertEquals("", r.string("data"));
    }

    @Test void wrong_or_missing_values_are_errors_naming_the_file_and_the_key(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("run.json");
        JsonFile.write(f, Map.of("batch", "sixteen", "epochs", 2.5, "list", List.of(1), "big", 1L << 40));
        JsonFile r = JsonFile.read(f);
        assertEquals(f + ": \"batch\" is \"sixteen\", expected an integer", assertThrows(IllegalArgumentException.class, () -> r.intValue("batch")).getMessage());
        assertEquals(f + ": \"epochs\" is 2.5, expected an integer", assertThrows(IllegalArgumentException.class, () -> r.longValue("epochs")).getMessage());
        assertEquals(f + ": \"list\" is an array, expected a number", assertThrows(IllegalArgumentException.class, () -> r.doubleValue("list")).getMessage());
        assertEquals(f + ": \"big\" is 1099511627776, outside the int range", assertThrows(IllegalArgumentException.class, () -> r.intValue("big")).getMessage());
        assertEquals(f + ": no \"seed\"", assertThrows(IllegalArgumentException.class, () -> r.longValue("seed")).getMessage());
    }
}
