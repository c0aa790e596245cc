package mae.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import mae.tensor.io.Safetensors.Contents;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir Path dir;

    // ------------------------------------------------------------------------------------------ round trips

    @Test
    void metadataIsWrittenInOneFixedOrderWhateverTheMapsOrder() throws IOException {
        // The same metadata in three iteration orders (a Map.of's order changes from one JVM to the next).
        List<String> keys = List.of("step", "norm_mean", "norm_std", "img_size", "config_name");
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("w", Entry.f32(new int[] {2}, new float[] {1, 2}));
        byte[] first = null;
        for (List<String> order : List.of(keys, List.of(keys.get(4), keys.get(3), keys.get(2), keys.get(1), keys.get(0)), List.of(keys.get(2), keys.get(0), keys.get(4), keys.get(1), keys.get(3)))) {
            Map<String, String> meta = new LinkedHashMap<>();
            for (String k : order) meta.put(k, "v-" + k);
            Path file = dir.resolve("m-" + String.join("-", order) + ".safetensors");
            Safetensors.write(file, meta, tensors);
            byte[] bytes = Files.readAllBytes(file);
            if (first == null) first = bytes;
            else assertArrayEquals(first, bytes, "metadata order " + order + " gives the same bytes");
        }
        String header = new String(first, 8, first.length - 8, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"config_name\":\"v-config_name\",\"img_size\""), header);
    }

    @Test
    void roundTripKeepsOrderShapesValuesAndMetadata() throws IOException {
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("z.last.name.first", Entry.f32(new int[] {2, 3}, new float[] {1, -2, 3.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f}));
        tensors.put("scalar", Entry.f32(new int[] {}, new float[] {42.25f}));
        tensors.put("step", Entry.i64(new int[] {3}, new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE}));
        tensors.put("empty", Entry.f32(new int[] {0, 5}, new float[0]));
        tensors.put("a", Entry.f32(new int[] {1, 1, 2}, new float[] {Float.NaN, Float.NEGATIVE_INFINITY}));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("quote\"back\\slash", "line\nbreak\ttab \u0001 é 漢字");
        Path file = dir.resolve("model.safetensors");

        Safetensors.write(file, metadata, tensors);
        Contents back = Safetensors.read(file);

        assertEquals(metadata, back.metadata());
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()));
        for (String name : tensors.keySet()) {
            Entry want = tensors.get(name), got = back.tensors().get(name);
            assertEquals(want.dtype(), got.dtype(), name);
            assertArrayEquals(want.shape(), got.shape(), name);
            assertArrayEquals(want.floats(), got.floats(), name);
            assertArrayEquals(want.longs(), got.longs(), name);
        }
        assertEquals(1, back.tensors().get("scalar").numel());
        assertEquals(List.of(file), listDir(), "no temp file may remain");
    }

    @Test
    void tensorsLargerThanOneIoChunkRoundTrip() throws IOException {
        float[] f = new float[1_300_001]; // 5.2 MB, more than the 4 MiB chunk
        for (int i = 0; i < f.length; i++) f[i] = i * 0.25f - 7;
        long[] l = new long[700_003];     // 5.6 MB
        for (int i = 0; i < l.length; i++) l[i] = (long) i * i - 3;
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("f", Entry.f32(new int[] {f.length}, f));
        tensors.put("l", Entry.i64(new int[] {l.length, 1}, l));
        Path file = dir.resolve("big.safetensors");
        Safetensors.write(file, Map.of(), tensors);
        Contents back = Safetensors.read(file);
        assertArrayEquals(f, back.tensors().get("f").floats());
        assertArrayEquals(l, back.tensors().get("l").longs());
    }

    @Test
    void headerIsPaddedToEightBytesAndBlobFollowsInOrder() throws IOException {
        Path file = dir.resolve("pad.safetensors");
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("b", Entry.f32(new int[] {1}, new float[] {1.5f}));
        tensors.put("a", Entry.i64(new int[] {1}, new long[] {7}));
        Safetensors.write(file, null, tensors);

        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long n = all.getLong(0);
        assertEquals(0, n % 8);
        assertEquals(8 + n + 4 + 8, all.capacity());
        String header = new String(all.array(), 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":"), header);
        assertFalse(header.contains("__metadata__"), "empty metadata is not written");
        assertEquals(1.5f, all.getFloat((int) (8 + n)));
        assertEquals(7L, all.getLong((int) (8 + n + 4)));
    }

    @Test
    void overwritesAnExistingFile() throws IOException {
        Path file = dir.resolve("w.safetensors");
        Safetensors.write(file, Map.of("v", "1"), Map.of("x", Entry.f32(new int[] {1}, new float[] {1})));
        Safetensors.write(file, Map.of("v", "2"), Map.of("x", Entry.f32(new int[] {2}, new float[] {2, 3})));
        Contents back = Safetensors.read(file);
        assertEquals("2", back.metadata().get("v"));
        assertArrayEquals(new float[] {2, 3}, back.tensors().get("x").floats());
    }

    // ------------------------------------------------------------------------------------------ decoding

    @Test
    void decodesF16Exactly() throws IOException {
        short[] halves = {0x3C00, (short) 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x7C00, (short) 0xFC00, (short) 0x8000, 0x0400};
        float[] want = {1.0f, -2.5f, 65504f, 0x1.0p-24f, 1023 * 0x1.0p-24f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0x1.0p-14f};
        Path file = handBuilt("h.safetensors", tensorJson("h", "F16", "[9]", 0, 18), shorts(halves));
        float[] got = Safetensors.read(file).tensors().get("h").floats();
        assertArrayEquals(want, got);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(got[7]), "negative zero keeps its sign");
        assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7E00)));
    }

    @Test
    void decodesBF16Exactly() throws IOException {
        short[] raw = {0x3F80, (short) 0xC020, 0x477F, 0x0001, 0x7F80, (short) 0xFF80, 0x7F7F};
        float[] want = {1.0f, -2.5f, 65280f, 0x1.0p-133f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0x1.fep127f};
        Path file = handBuilt("b.safetensors", tensorJson("b", "BF16", "[7]", 0, 14), shorts(raw));
        assertArrayEquals(want, Safetensors.read(file).tensors().get("b").floats());
    }

    @Test
    void decodesF64AndI32() throws IOException {
        ByteBuffer blob = ByteBuffer.allocate(16 + 12).order(ByteOrder.LITTLE_ENDIAN);
        blob.putDouble(0.1).putDouble(-3e300).putInt(-7).putInt(0).putInt(Integer.MAX_VALUE);
        String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[16,28]}}";
        Contents c = Safetensors.read(handBuilt("di.safetensors", header, blob.array()));
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, c.tensors().get("d").floats());
        assertArrayEquals(new long[] {-7, 0, Integer.MAX_VALUE}, c.tensors().get("i").longs());
        assertNull(c.tensors().get("i").floats());
    }

    // ------------------------------------------------------------------------------------------ corrupt files

    @Test
    void fileShorterThanEightBytes() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        Files.write(file, new byte[5]);
        assertError(file, "5 bytes, shorter than the 8-byte header length");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        Path file = dir.resolve("long.safetensors");
        byte[] bytes = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array();
        Files.write(file, bytes);
        assertError(file, "header length 1000 is larger than the 12 bytes");
    }

    @Test
    void malformedJson() throws IOException {
        Path file = handBuilt("bad.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}", new byte[4]);
        assertError(file, "malformed JSON header");
        assertError(handBuilt("dup.safetensors", "{\"w\":1,\"w\":2}", new byte[0]), "duplicate key \"w\"");
        assertError(handBuilt("arr.safetensors", "[1, 2]", new byte[0]), "header is an array, not a JSON object");
    }

    @Test
    void unknownDtypeNamesTheTensor() throws IOException {
        Path file = handBuilt("dt.safetensors", tensorJson("enc.w", "Q7", "[1]", 0, 4), new byte[4]);
        assertError(file, "tensor 'enc.w': unknown dtype 'Q7'");
    }

    @Test
    void shapeOffsetMismatchNamesTheTensorAndSizes() throws IOException {
        Path file = handBuilt("model.safetensors", tensorJson("blocks.0.attn.qkv.weight", "F32", "[48, 16]", 0, 100), new byte[100]);
        assertError(file, "tensor 'blocks.0.attn.qkv.weight': data_offsets [0, 100] hold 100 bytes but shape [48, 16] of F32 needs 3072");
    }

    @Test
    void offsetsOutOfRangeOrReversed() throws IOException {
        assertError(handBuilt("oor.safetensors", tensorJson("w", "F32", "[2]", 4, 12), new byte[8]),
                "tensor 'w': data_offsets [4, 12] end beyond the 8-byte data blob");
        assertError(handBuilt("rev.safetensors", tensorJson("w", "F32", "[1]", 8, 4), new byte[8]),
                "tensor 'w': data_offsets [8, 4] begin after end");
        assertError(handBuilt("neg.safetensors", tensorJson("w", "F32", "[-1]", 0, 4), new byte[8]),
                "tensor 'w': shape [-1] must hold non-negative integers");
    }

    @Test
    void overlappingTensorsNameBoth() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertError(handBuilt("ov.safetensors", header, new byte[12]), "tensor 'b': data_offsets [4, 12] overlap tensor 'a' at [0, 8]");
    }

    @Test
    void nonStringMetadataNamesTheKey() throws IOException {
        String header = "{\"__metadata__\":{\"ok\":\"yes\",\"epoch\":3}}";
        assertError(handBuilt("meta.safetensors", header, new byte[0]), "metadata \"epoch\" is a number, not a string");
    }

    @Test
    void missingAndUnknownFieldsNameTheTensor() throws IOException {
        assertError(handBuilt("nf.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "tensor 'w': data_offsets is missing");
        assertError(handBuilt("uf.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", new byte[4]),
                "tensor 'w': unknown field \"x\"");
    }

    @Test
    void truncatedFileNamesTheTensorCut() throws IOException {
        Path file = dir.resolve("trunc.safetensors");
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("first", Entry.f32(new int[] {4}, new float[4]));
        tensors.put("second", Entry.f32(new int[] {4}, new float[4]));
        Safetensors.write(file, null, tensors);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - 3));
        assertError(file, "tensor 'second': data_offsets [16, 32] end beyond the 29-byte data blob");
    }

    @Test
    void missingFileIsAnIOExceptionNamingIt() {
        Path file = dir.resolve("absent.safetensors");
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    // ------------------------------------------------------------------------------------------ failed writes

    @Test
    void refusedDtypeLeavesOldFileIntact() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Safetensors.write(file, Map.of("v", "old"), Map.of("x", Entry.f32(new int[] {1}, new float[] {1})));
        byte[] before = Files.readAllBytes(file);
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("ok", Entry.f32(new int[] {1}, new float[] {2}));
        tensors.put("half", new Entry("F16", new int[] {1}, new float[] {2}, null));

        IOException e = assertThrows(IOException.class, () -> Safetensors.write(file, Map.of("v", "new"), tensors));
        assertTrue(e.getMessage().startsWith(file + ": tensor 'half': dtype F16 cannot be written"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listDir());
    }

    @Test
    void failureAfterDataWrittenLeavesOldFileIntactAndNoTemp() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Safetensors.write(file, Map.of("v", "old"), Map.of("x", Entry.f32(new int[] {1}, new float[] {1})));
        byte[] before = Files.readAllBytes(file);
        Path[] tempSeen = new Path[1];

        IOException e = assertThrows(IOException.class, () -> Safetensors.write(file, Map.of("v", "new"),
                Map.of("x", Entry.f32(new int[] {1000}, new float[1000])), () -> {
                    List<Path> files = listDir();
                    assertEquals(2, files.size(), "temp file written next to the target");
                    tempSeen[0] = files.stream().filter(p -> !p.equals(file)).findFirst().orElseThrow();
                    assertTrue(Files.size(tempSeen[0]) > 4000, "temp file holds the new data");
                    throw new IOException("disk on fire");
                }));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("disk on fire"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertFalse(Files.exists(tempSeen[0]), "temp file deleted");
        assertEquals(List.of(file), listDir());
    }

    @Test
    void entryRefusesDataNotMatchingShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Entry.f32(new int[] {2, 3}, new float[5]));
        assertEquals("data has 5 values but shape [2, 3] needs 6", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Entry("I64", new int[] {1}, new float[1], null));
        assertThrows(IllegalArgumentException.class, () -> new Entry("U8", new int[] {1}, new float[1], null));
    }

    // ------------------------------------------------------------------------------------------ helpers

    private void assertError(Path file, String expectedPart) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(file));
        assertTrue(e instanceof SafetensorsException, e.toString());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expectedPart), "expected '" + expectedPart + "' in: " + e.getMessage());
    }

    private static String tensorJson(String name, String dtype, String shape, long begin, long end) {
        return "{\"" + name + "\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape + ", \"data_offsets\": [" + begin + ", " + end + "]}}";
    }

    private Path handBuilt(String name, String header, byte[] blob) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(blob);
        Path file = dir.resolve(name);
        Files.write(file, out.toByteArray());
        return file;
    }

    private static byte[] shorts(short[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) b.putShort(v);
        return b.array();
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
