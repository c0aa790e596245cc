package mae.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    @Test void flat_objects_round_trip(@TempDir Path tmp) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("a", "1");
        m.put("quote\"d", "line\nbreak\\");
        assertEquals(m, Json.parseFlat(Json.flat(m), tmp.resolve("x.json")));
        assertThrows(IllegalArgumentException.class, () -> Json.parseFlat("{\"a\": ", tmp.resolve("bad.json")));
    }
}
