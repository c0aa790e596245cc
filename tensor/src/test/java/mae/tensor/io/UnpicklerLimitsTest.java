package mae.tensor.io;

import mae.tensor.io.Unpickler.Global;
import mae.tensor.io.Unpickler.PickleException;
import mae.tensor.io.Unpickler.Tuple;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The unpickler's limits, each met exactly (accepted) and passed by one (refused with its reason): stack, MARKs,
 * pushed values, memo, GLOBAL lines, LONG1 bytes, string and FRAME lengths, nesting of the result and of dict keys;
 * and the names it gives values in its messages.
 */
class UnpicklerLimitsTest {
    static Object load(byte[] p) throws PickleException {
        Unpickler.Handler h = new Unpickler.Handler() {
            @Override public Object call(Global fn, Tuple args) { return new ArrayList<>(List.of(fn.qualified())); }
            @Override public Object persistentLoad(Object pid) { return pid; }
        };
        return new Unpickler(p, Set.of("m.f", "argparse.Namespace", "__torch__.x.Y"), Set.of("argparse.Namespace"), h).load();
    }

    static String error(byte[] p, String... words) {
        PickleException e = assertThrows(PickleException.class, () -> load(p));
        for (String w : words) assertTrue(e.getMessage().contains(w), "'" + e.getMessage() + "' should say " + w);
        return e.getMessage();
    }

    /** n repetitions of the bytes. */
    static byte[] times(int n, int... bytes) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(n * bytes.length);
        for (int i = 0; i < n; i++) for (int b : bytes) o.write(b);
        return o.toByteArray();
    }

    @Test void the_stack_marks_pushes_and_memo_are_capped_exactly() throws PickleException {
        int S = Unpickler.MAX_STACK;
        assertNull(load(PickleBytes.proto2().raw(times(S, 'N')).stop().bytes()), "a full stack");
        error(PickleBytes.proto2().raw(times(S + 1, 'N')).stop().bytes(), "stack grows past 1000000");
        assertEquals(List.of(), load(PickleBytes.proto2().raw(times(S - 1, '(')).emptyList().stop().bytes()), "as many MARKs as allowed");
        error(PickleBytes.proto2().raw(times(S + 1, '(')).stop().bytes(), "more than 1000000 open MARKs");
        int O = Unpickler.MAX_OBJECTS;
        assertNull(load(PickleBytes.proto2().raw(times(O / 2 - 1, 'N', 'N', '0', '0')).none().none().op('0').stop().bytes()), "exactly the pushes allowed");
        error(PickleBytes.proto2().raw(times(O / 2, 'N', 'N', '0', '0')).none().stop().bytes(), "pushes more than 2000000");
        int M = Unpickler.MAX_MEMO;
        assertNull(load(PickleBytes.proto2().raw(times(M, 'N', 0x94, '0')).none().op('q').raw(0).stop().bytes()),
                "a full memo takes a new value for an index it holds");
        error(PickleBytes.proto2().raw(times(M, 'N', 0x94, '0')).none().op(0x94).stop().bytes(), "memo grows past 1000000");
    }

    @Test void lines_longs_strings_and_frames_are_bounded() throws PickleException {
        String ok = "a".repeat(256);
        error(PickleBytes.proto2().global(ok, "f").stop().bytes(), "refused global " + "a".repeat(120) + "...");
        error(PickleBytes.proto2().global("a".repeat(257), "f").stop().bytes(), "GLOBAL module is longer than 256");
        error(PickleBytes.proto2().global("m", "f\u001f").stop().bytes(), "holds byte 0x1f, not printable ASCII");
        error(PickleBytes.proto2().op('c').raw('m', 0x7F, '\n').stop().bytes(), "holds byte 0x7f");
        error(PickleBytes.proto2().global("m ~", "f").stop().bytes(), "refused global m ~.f");
        error(PickleBytes.proto2().op('c').raw('m').bytes(), "GLOBAL module line is not terminated");
        error(PickleBytes.proto2().global("__torch__.x", "Z").stop().bytes(), "a TorchScript archive?");
        error(PickleBytes.proto2().global("os", "system").stop().bytes(), "never runs code from a file");
        error(PickleBytes.proto2().str("m\u0001").str("f\u00e9").op(0x93).stop().bytes(), "refused global m\\u0001.f\\u00e9");
        assertEquals(List.of("m.f"), load(PickleBytes.proto2().global("m", "f").emptyTuple().op('R').stop().bytes()));

        byte[] big = new byte[64];
        big[63] = 0x40;                                                       // 2^510, in 64 bytes
        assertEquals(java.math.BigInteger.ONE.shiftLeft(510), load(PickleBytes.proto2().op(0x8A).raw(64).raw(big).stop().bytes()));
        error(PickleBytes.proto2().op(0x8A).raw(65).raw(new byte[65]).stop().bytes(), "LONG1 of 65 bytes");
        assertEquals(-1L, load(PickleBytes.proto2().op(0x8A).raw(1).raw(0xFF).stop().bytes()));
        assertEquals(Long.MIN_VALUE, load(PickleBytes.proto2().op(0x8A).raw(8).le(Long.MIN_VALUE, 8).stop().bytes()), "64 bits still a long");

        assertEquals("abc", load(PickleBytes.proto2().op(0x8C).raw(3).raw('a', 'b', 'c').op('.').bytes()));
        assertEquals("", load(PickleBytes.proto2().op(0x8C).raw(0).stop().bytes()));
        error(PickleBytes.proto2().op(0x8C).raw(4).raw('a', 'b', 'c').bytes(), "string of 4 bytes is longer than the 3 bytes left");
        error(PickleBytes.proto2().op(0x8D).le(-1, 8).bytes(), "string of 18446744073709551615 bytes");
        assertEquals("x", load(PickleBytes.proto2().op(0x8C).raw(1).raw('x').stop().bytes()), "a string right up to the end of the data but STOP");

        assertEquals(1L, load(PickleBytes.proto2().op(0x95).le(3, 8).integer(1).stop().bytes()), "a FRAME of exactly the rest");
        error(PickleBytes.proto2().op(0x95).le(4, 8).integer(1).stop().bytes(), "FRAME of 4 bytes is longer");
        error(PickleBytes.proto2().op(0x95).raw(1, 0, 0).bytes(), "FRAME of 18446744073709551615 bytes");
        assertNull(load(new PickleBytes().op(0x80).raw(5).none().stop().bytes()), "protocol 5");
        error(new PickleBytes().op(0x80).raw(6).none().stop().bytes(), "pickle protocol 6 is newer than 5");
        error(PickleBytes.proto2().op(0x8C).bytes(), "pickle ends 0 bytes after this opcode, which needs 1");
        error(PickleBytes.proto2().op('J').raw(1, 2, 3).bytes(), "which needs 4");
    }

    @Test void the_stack_floor_is_the_last_mark() throws PickleException {
        error(PickleBytes.proto2().none().mark().op('0').stop().bytes(), "nothing to pop above the MARK");
        error(PickleBytes.proto2().op('0').bytes(), "stack underflow (nothing to pop)");
        error(PickleBytes.proto2().none().mark().none().op(0x86).stop().bytes(), "needs 2 items");
        assertEquals(new Tuple(List.of(new Tuple(List.of(1L, 2L)))), load(PickleBytes.proto2().mark().integer(1).integer(2).op(0x86).op('t').stop().bytes()),
                "TUPLE2 takes the two items above the MARK");
        error(PickleBytes.proto2().none().mark().str("v").op('a').stop().bytes(), "APPEND on an empty stack");
        error(PickleBytes.proto2().op('1').bytes(), "no MARK to pop to");
        error(PickleBytes.proto2().none().mark().op('b').bytes(), "stack underflow");
        error(PickleBytes.proto2().none().none().op('b').stop().bytes(), "BUILD on a None is not supported");
        error(PickleBytes.proto2().none().op(0x94).op('h').raw(1).stop().bytes(), "memo index 1 was never stored (1 entries stored)");
        error(PickleBytes.proto2().none().op('q').raw(0).op('0').op(0x94).bytes(), "PUT on an empty stack");
        error(PickleBytes.proto2().op(0x01).bytes(), "unsupported pickle opcode 0x01 (a state dict");
        error(PickleBytes.proto2().op('~').bytes(), "opcode 0x7e ('~')");
        error(PickleBytes.proto2().op(' ').bytes(), "opcode 0x20 (' ')");
        error(PickleBytes.proto2().op(0x7F).bytes(), "opcode 0x7f (a state dict");
        error(PickleBytes.proto2().op(0x1F).bytes(), "opcode 0x1f (a state dict");
        error(PickleBytes.proto2().global("argparse", "Namespace").emptyTuple().op(0x81).emptyDict().op('b').emptyDict().op('b').stop().bytes(),
                "BUILD twice on one argparse.Namespace object");
    }

    /** Nesting of the result: 100 levels fit, 101 do not, counted along the deepest path even through shared parts. */
    @Test void the_result_nests_at_most_100_deep() throws PickleException {
        assertNotNull(load(PickleBytes.proto2().raw(times(100, ']')).raw(times(99, 'a')).stop().bytes()));
        error(PickleBytes.proto2().raw(times(101, ']')).raw(times(100, 'a')).stop().bytes(), "deeper than 100 levels");
        // a 99-deep chain reached first directly under the root (100 levels), then again two levels down: 102
        PickleBytes p = PickleBytes.proto2().raw(times(99, ']')).raw(times(98, 'a')).op('q').raw(1);   // stack: chain (memo 1)
        p.emptyList().emptyList().op('h').raw(1).op('a').op('a').op(0x86);                           // (chain, [[chain]])
        error(p.stop().bytes(), "deeper than 100 levels");
        PickleBytes q = PickleBytes.proto2().raw(times(98, ']')).raw(times(97, 'a')).op('q').raw(1);
        q.emptyList().op('h').raw(1).op('a').op(0x86);                                               // (chain98, [chain98]): 100
        assertTrue(load(q.stop().bytes()) instanceof Tuple);
        error(PickleBytes.proto2().emptyList().op('q').raw(0).op('h').raw(0).op('a').stop().bytes(), "contains itself");
        assertEquals(7L, load(PickleBytes.proto2().integer(7).stop().bytes()), "a scalar result needs no check");
        PickleBytes inst = PickleBytes.proto2().global("argparse", "Namespace").emptyTuple().op(0x81).emptyList().op('q').raw(3).op('b')
                .op('h').raw(3).op('h').raw(3).op('a');                   // the instance's state is a list holding itself
        error(inst.op('0').stop().bytes(), "contains itself");
    }

    @Test void dict_keys_are_hashable_scalars_or_shallow_tuples() throws PickleException {
        PickleBytes p = PickleBytes.proto2().emptyDict();
        for (int d = 0; d < 8; d++) p.mark();
        p.integer(1);
        for (int d = 0; d < 8; d++) p.op('t');
        assertEquals(1, ((Map<?, ?>) load(p.none().op('s').stop().bytes())).size(), "a key 8 tuples deep");
        PickleBytes q = PickleBytes.proto2().emptyDict();
        for (int d = 0; d < 9; d++) q.mark();
        q.integer(1);
        for (int d = 0; d < 9; d++) q.op('t');
        error(q.none().op('s').stop().bytes(), "tuple nested deeper than 8");
        error(PickleBytes.proto2().emptyDict().emptyList().none().op('s').stop().bytes(), "dict key is a list, not a hashable value");
        error(PickleBytes.proto2().emptyDict().emptyDict().none().op('s').stop().bytes(), "dict key is a dict");
        error(PickleBytes.proto2().emptyDict().mark().none().op('u').stop().bytes(), "odd number of items (1)");
        Map<?, ?> ok = (Map<?, ?>) load(PickleBytes.proto2().emptyDict().mark().none().integer(1).bool(true).integer(2).binfloat(0.5).integer(3)
                .op(0x8A).raw(9).raw(0, 0, 0, 0, 0, 0, 0, 0x80, 0).integer(4).global("m", "f").integer(5).str("s").integer(6).op('u').stop().bytes());
        assertEquals(6, ok.size());
        error(PickleBytes.proto2().none().none().none().op('s').stop().bytes(), "SETITEM on a None, not a dict");
        error(PickleBytes.proto2().emptyDict().none().op('a').stop().bytes(), "APPEND on a dict, not a list");
    }

    @Test void values_are_named_as_python_names_their_types() {
        assertEquals("None", Unpickler.typeName(null));
        assertEquals("bool", Unpickler.typeName(true));
        assertEquals("int", Unpickler.typeName(1L));
        assertEquals("int", Unpickler.typeName(java.math.BigInteger.TEN));
        assertEquals("float", Unpickler.typeName(1.0));
        assertEquals("str", Unpickler.typeName("s"));
        assertEquals("tuple", Unpickler.typeName(new Tuple(List.of())));
        assertEquals("list", Unpickler.typeName(List.of()));
        assertEquals("OrderedDict", Unpickler.typeName(new Unpickler.OrderedDict()));
        assertEquals("dict", Unpickler.typeName(Map.of()));
        assertEquals("global m.f", Unpickler.typeName(new Global("m", "f")));
        assertEquals("argparse.Namespace object", Unpickler.typeName(new Unpickler.Instance(new Global("argparse", "Namespace"), new Tuple(List.of()))));
        assertEquals("Object", Unpickler.typeName(new Object()));
        error(PickleBytes.proto2().integer(1).str("f").op(0x93).stop().bytes(), "STACK_GLOBAL needs two strings, got int and str");
        error(PickleBytes.proto2().none().emptyTuple().op('R').stop().bytes(), "REDUCE calls a None");
        error(PickleBytes.proto2().global("m", "f").none().op('R').stop().bytes(), "REDUCE arguments for m.f are a None, not a tuple");
        error(PickleBytes.proto2().global("m", "f").emptyTuple().op(0x81).stop().bytes(), "NEWOBJ of m.f is not allowed");
        error(PickleBytes.proto2().integer(3).emptyTuple().op(0x81).stop().bytes(), "NEWOBJ of a int is not allowed");
        error(PickleBytes.proto2().global("argparse", "Namespace").emptyList().op(0x81).stop().bytes(), "NEWOBJ arguments for argparse.Namespace are a list");
    }

    @Test void refused_names_frames_and_strings_at_their_exact_edges() throws PickleException {
        String m = "m".repeat(118);                                                  // "m...m.f": 120 characters
        assertTrue(error(PickleBytes.proto2().global(m, "f").stop().bytes()).contains("refused global " + m + ".f: not on"), "120 characters are shown whole");
        error(PickleBytes.proto2().global(m + "m", "f").stop().bytes(), "refused global " + m + "m." + "...");
        error(PickleBytes.proto2().str("m").str("f\u007f").op(0x93).stop().bytes(), "refused global m.f\\u007f");
        assertEquals(1L, load(PickleBytes.proto2().op(0x95).le(0, 8).integer(1).stop().bytes()), "an empty FRAME");
        error(PickleBytes.proto2().op(0x95).le(0, 8).bytes(), "pickle ends at byte 11 without a STOP");
        assertEquals("", load(PickleBytes.proto2().str("").stop().bytes()), "an empty string");
        error(PickleBytes.proto2().str("ab").bytes(), "pickle ends at byte 9 without a STOP");
    }

    @Test void messages_are_cut_only_past_2000_characters() {
        String s = "y".repeat(2000);
        assertEquals(s, TorchCheckpointException.oneLine(s));
        assertEquals(s + "...", TorchCheckpointException.oneLine(s + "y"));
    }
}
