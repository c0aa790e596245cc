package mae.tests;

import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile or broken files given to the commands that take a checkpoint: each ends in exit code 1 and one line
 * "error: FILE: why" on stderr, never a stack trace, a hang or a huge allocation.
 */
class HostileCheckpointsTest {
    static final Path PTH = ReleasedCheckpointsTest.OFFICIAL;

    @TempDir Path tmp;

    /** Runs convert, reconstruct and forward on the file; each must fail with one line containing {@code part}. */
    private void assertOneLine(Path file, String part) {
        Path png = ReleasedCheckpointsTest.R.resolve("photo.png"), inputs = ReleasedCheckpointsTest.R.resolve("inputs.safetensors");
        String[][] commands = {
                {"convert", file.toString(), tmp.resolve("out.safetensors").toString()},
                {"reconstruct", "--checkpoint", file.toString(), "--image", png.toString(), "--out", tmp.resolve("r.png").toString()},
                {"forward", "--weights", file.toString(), "--inputs", inputs.toString(), "--out", tmp.resolve("f.safetensors").toString()}};
        for (String[] args : commands) {
            ExplainFixture.Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> ExplainFixture.run(tmp, args), args[0]);
            assertEquals(1, r.rc(), args[0] + " " + file + ": " + r.out() + r.err());
            String err = r.err().stripTrailing();
            assertFalse(err.contains("\n"), args[0] + ": more than one line: " + err);
            assertTrue(err.startsWith("error: ") && err.contains(part), args[0] + ": " + err);
            assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        }
        assertFalse(Files.exists(tmp.resolve("out.safetensors")), "nothing written");
    }

    private static Map<String, byte[]> entries(Path zip) throws Exception {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
                ZipEntry en = e.nextElement();
                m.put(en.getName(), z.getInputStream(en).readAllBytes());
            }
        }
        return m;
    }

    /** A zip of the entries, all stored as torch.save stores them, except {@code deflated}. */
    private Path zip(String name, Map<String, byte[]> entries, String deflated) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                if (e.getKey().equals(deflated)) z.setMethod(ZipEntry.DEFLATED);
                else {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(e.getValue().length);
                    z.setCompressedSize(e.getValue().length);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        Path p = tmp.resolve(name);
        Files.write(p, bytes.toByteArray());
        return p;
    }

    /** The name of the largest storage entry (a weight matrix). */
    private static String largest(Map<String, byte[]> entries) {
        return entries.entrySet().stream().filter(e -> e.getKey().contains("/data/")).max((a, b) -> a.getValue().length - b.getValue().length).orElseThrow().getKey();
    }

    @Test void a_truncated_checkpoint() throws Exception {
        byte[] all = Files.readAllBytes(PTH);
        Path half = tmp.resolve("half.pth");
        Files.write(half, Arrays.copyOf(all, all.length / 2));
        assertOneLine(half, "no zip end-of-central-directory record");
        Path empty = tmp.resolve("empty.pth");
        Files.write(empty, new byte[0]);
        assertOneLine(empty, "empty.pth");
    }

    @Test void a_storage_shorter_than_its_tensor() throws Exception {
        Map<String, byte[]> e = entries(PTH);
        String big = largest(e);
        e.put(big, Arrays.copyOf(e.get(big), 64));
        assertOneLine(zip("short.pth", e, null), "storage entry '" + big + "' is 64 bytes but holds");
    }

    @Test void a_zip_bomb_is_never_inflated() throws Exception {
        Map<String, byte[]> e = entries(PTH);
        String big = largest(e);
        e.put(big, new byte[64 << 20]);                    // 64 MiB of zeros, deflated to about 64 KiB
        Path bomb = zip("bomb.pth", e, big);
        assertTrue(Files.size(bomb) < 2 << 20);
        assertOneLine(bomb, "is compressed");
    }

    @Test void pickles_that_name_code_are_refused_and_never_run() throws Exception {
        Path marker = Path.of("/tmp/pwned");
        boolean before = Files.exists(marker);
        Path evil = tmp.resolve("evil.pth");
        Files.copy(Path.of("../tensor/src/test/resources/torch/evil_os_system.pt"), evil);
        assertOneLine(evil, "refused global posix.system");
        Path eval = tmp.resolve("eval.pth");
        Files.copy(Path.of("../tensor/src/test/resources/torch/evil_eval.pt"), eval);
        assertOneLine(eval, "refused global __builtin__.eval");
        assertEquals(before, Files.exists(marker), "nothing ran");
    }

    @Test void absurd_shapes_and_names() throws Exception {
        // a header promising 2^60 bytes of tensor from a small file
        Path huge = tmp.resolve("huge.safetensors");
        String header = "{\"vit.embeddings.cls_token\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824],\"data_offsets\":[0,4611686018427387904]}}";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Files.write(huge, b.array());
        assertOneLine(huge, "huge.safetensors");

        // names of a model with a million blocks: refused by name, nothing built
        Map<String, Entry> t = new LinkedHashMap<>(Safetensors.read(ReleasedCheckpointsTest.HF_ST).tensors());
        t.put("vit.encoder.layer.999999.layernorm_before.weight", Entry.f32(new int[]{64}, new float[64]));
        Path many = tmp.resolve("many.safetensors");
        Safetensors.write(many, Map.of("format", "pt"), t);
        assertOneLine(many, "blocks.* indices run 0 .. 999999 with 3 blocks");

        // a position embedding that is no square grid; a query without its key and value
        t = new LinkedHashMap<>(Safetensors.read(ReleasedCheckpointsTest.HF_ST).tensors());
        t.put("vit.embeddings.position_embeddings", Entry.f32(new int[]{1, 15, 64}, new float[15 * 64]));
        Path grid = tmp.resolve("grid.safetensors");
        Safetensors.write(grid, Map.of("format", "pt"), t);
        assertOneLine(grid, "is not (1, 1 + g*g, 64) for a square grid");
        t = new LinkedHashMap<>(Safetensors.read(ReleasedCheckpointsTest.HF_ST).tensors());
        t.remove("vit.encoder.layer.1.attention.attention.key.weight");
        t.remove("vit.encoder.layer.1.attention.attention.value.weight");
        Path qkv = tmp.resolve("qkv.safetensors");
        Safetensors.write(qkv, Map.of("format", "pt"), t);
        assertOneLine(qkv, "'blocks.1.attn.qkv.weight' needs query, key and value");

        // names from another model; a file that is no checkpoint at all
        Path other = tmp.resolve("other.safetensors");
        Safetensors.write(other, Map.of(), Map.of("bert.embeddings.word_embeddings.weight\nline two", Entry.f32(new int[]{2}, new float[2])));
        assertOneLine(other, "bert.embeddings.word_embeddings.weight\\nline two");   // escaped as Main.oneLine does
        assertOneLine(ReleasedCheckpointsTest.R.resolve("photo.png"), "photo.png");
    }

    @Test void a_broken_config_json_beside_a_hub_file() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("hub"));
        Files.copy(ReleasedCheckpointsTest.HF_ST, dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 64, \"num_attention_heads\": ");
        assertOneLine(dir.resolve("model.safetensors"), "config.json: malformed JSON");
        Files.writeString(dir.resolve("config.json"), "{\"num_attention_heads\": 5}");
        assertOneLine(dir.resolve("model.safetensors"), "says 5 encoder heads, which do not divide the width 64");
    }
}
