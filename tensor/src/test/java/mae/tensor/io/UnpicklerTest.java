package mae.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mae.tensor.io.Unpickler.Global;
import mae.tensor.io.Unpickler.Instance;
import mae.tensor.io.Unpickler.PickleException;
import mae.tensor.io.Unpickler.Tuple;
import org.junit.jupiter.api.Test;

class UnpicklerTest {
    /** Records what would have been called; calls nothing. */
    private final List<String> calls = new ArrayList<>();

    private Object load(byte[] pickle) throws PickleException {
        Unpickler.Handler h = new Unpickler.Handler() {
            @Override public Object call(Global fn, Tuple args) {
                calls.add(fn + "" + args.items());
                return fn.qualified().equals("collections.OrderedDict") ? new Unpickler.OrderedDict() : "called:" + fn;
            }

            @Override public Object persistentLoad(Object pid) { return List.of("pid", pid); }
        };
        return new Unpickler(pickle, Set.of("collections.OrderedDict", "argparse.Namespace", "m.f"), Set.of("argparse.Namespace"), h).load();
    }

    private String error(byte[] pickle) {
        PickleException e = assertThrows(PickleException.class, () -> load(pickle));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String part) {
        assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
    }

    // ------------------------------------------------------------------------------------------ values

    @Test
    void scalarsStringsAndContainers() throws PickleException {
        byte[] p = PickleBytes.proto2().mark()
                .none().bool(true).bool(false)
                .integer(7).integer(40000).integer(-5).integer(Integer.MAX_VALUE).integer(-(1L << 40))
                .op(0x8A).raw(9).raw(0, 0, 0, 0, 0, 0, 0, 0x80, 0)        // LONG1: 2^63, past a long
                .op(0x8A).raw(0)                                          // LONG1 of no bytes: 0
                .binfloat(1.5e-4)
                .op(0x8C).raw(5).raw("h\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8)).raw('!', '!')  // SHORT_BINUNICODE
                .op(0x8D).le(3, 8).raw('a', 'b', 'c')                    // BINUNICODE8
                .emptyTuple().op(0x85).emptyList().emptyDict().op(0x86)   // ((),) then ([], {}) as TUPLE1/TUPLE2
                .op('t').stop().bytes();
        Tuple t = (Tuple) load(p);
        assertNull(t.get(0));
        assertEquals(List.of(true, false, 7L, 40000L, -5L, (long) Integer.MAX_VALUE, -(1L << 40)), t.items().subList(1, 8));
        assertEquals(BigInteger.ONE.shiftLeft(63), t.get(8));
        assertEquals(0L, t.get(9));
        assertEquals(1.5e-4, t.get(10));
        assertEquals("h\u00e9!!", t.get(11));
        assertEquals("abc", t.get(12));
        assertEquals(new Tuple(List.of(new Tuple(List.of()))), t.get(13));
        assertEquals(new Tuple(List.of(List.of(), Map.of())), t.get(14));
    }

    @Test
    void dictListMemoAndFrames() throws PickleException {
        byte[] p = new PickleBytes().op(0x80).raw(4).op(0x95).le(40, 8)  // protocol 4 with a FRAME
                .emptyDict().op(0x94)                                     // MEMOIZE -> 0
                .mark().str("a").mark().integer(1).integer(2).op('l').str("b").emptyList().op('q').raw(9)
                .integer(3).op('a').mark().integer(4).integer(5).op('e')  // APPEND, APPENDS on [..]
                .op('u')
                .str("c").op('h').raw(9).op('s')                          // same list object again
                .str("d").mark().str("k").integer(1).op('d').op('s')      // DICT
                .op('0').op('h').raw(0)                                   // POP the dict, fetch it from the memo
                .stop().bytes();
        @SuppressWarnings("unchecked") Map<String, Object> d = (Map<String, Object>) load(p);
        assertEquals(List.of("a", "b", "c", "d"), List.copyOf(d.keySet()));
        assertEquals(List.of(1L, 2L), d.get("a"));
        assertSame(d.get("b"), d.get("c"));
        assertEquals(3, ((List<?>) d.get("b")).size());
        assertEquals(Map.of("k", 1L), d.get("d"));
    }

    @Test
    void allowedGlobalsReduceNewobjAndBuild() throws PickleException {
        byte[] p = PickleBytes.proto2().mark()
                .global("collections", "OrderedDict").emptyTuple().op('R').emptyDict().str("_metadata").integer(1).op('s').op('b')
                .str("m").str("f").op(0x93).integer(3).op(0x85).op('R')          // STACK_GLOBAL m.f, REDUCE
                .global("argparse", "Namespace").emptyTuple().op(0x81)
                .emptyDict().str("lr").none().op('s').op('b')                       // NEWOBJ + BUILD state
                .mark().str("storage").integer(3).op('t').op('Q')                   // BINPERSID
                .op('t').stop().bytes();
        Tuple t = (Tuple) load(p);
        assertTrue(t.get(0) instanceof Unpickler.OrderedDict od && od.isEmpty(), "OrderedDict attributes are dropped");
        assertEquals("called:m.f", t.get(1));
        Instance ns = (Instance) t.get(2);
        assertEquals("argparse.Namespace", ns.cls.qualified());
        assertEquals(java.util.Collections.singletonMap("lr", null), ns.state);
        assertEquals(List.of("pid", new Tuple(List.of("storage", 3L))), t.get(3));
        assertEquals(List.of("collections.OrderedDict[]", "m.f[3]"), calls);
    }

    @Test
    void bytesAfterStopAreIgnored() throws PickleException {
        assertEquals(5L, load(PickleBytes.proto2().integer(5).stop().raw(0xFF, 0xFF).bytes()));
    }

    // ------------------------------------------------------------------------------------------ refused globals

    @Test
    void osSystemIsRefusedByNameBeforeAnythingHappens() {
        byte[] p = PickleBytes.proto2().global("os", "system").str("touch /tmp/pwned").op(0x85).op('R').stop().bytes();
        String m = error(p);
        assertContains(m, "refused global os.system: not on the allow-list");
        assertContains(m, "[at byte 2]");
        assertTrue(calls.isEmpty());
    }

    @Test
    void builtinsEvalByStackGlobalIsRefused() {
        byte[] p = new PickleBytes().op(0x80).raw(4).op(0x8C).raw(8).raw("builtins".getBytes()).op(0x8C).raw(4).raw("eval".getBytes())
                .op(0x93).str("__import__('os').system('id')").op(0x85).op('R').stop().bytes();
        assertContains(error(p), "refused global builtins.eval");
        assertTrue(calls.isEmpty());
    }

    @Test
    void otherCodePathsAreRefused() {
        assertContains(error(PickleBytes.proto2().global("__builtin__", "getattr").stop().bytes()), "refused global __builtin__.getattr");
        assertContains(error(PickleBytes.proto2().global("torch._utils", "_rebuild_device_tensor_from_numpy").stop().bytes()),
                "refused global torch._utils._rebuild_device_tensor_from_numpy");
        assertContains(error(PickleBytes.proto2().global("__torch__.models", "MAE").stop().bytes()), "TorchScript");
        // NEWOBJ of an allowed global that is not an opaque class; REDUCE of a non-global
        assertContains(error(PickleBytes.proto2().str("m").str("f").op(0x93).emptyTuple().op(0x81).stop().bytes()), "NEWOBJ of m.f is not allowed");
        assertContains(error(PickleBytes.proto2().str("x").emptyTuple().op('R').stop().bytes()), "REDUCE calls a str");
        // a GLOBAL line with a control byte, and one that never ends
        assertContains(error(PickleBytes.proto2().op('c').raw('o', 's', 0, '\n', 's', '\n').stop().bytes()), "not printable ASCII");
        assertContains(error(PickleBytes.proto2().op('c').raw('o', 's').bytes()), "not terminated");
        assertContains(error(PickleBytes.proto2().op('c').raw("a".repeat(300).getBytes()).bytes()), "longer than 256 characters");
    }

    // ------------------------------------------------------------------------------------------ malformed

    @Test
    void unknownOpcodes() {
        assertContains(error(PickleBytes.proto2().op(0xFF).bytes()), "unsupported pickle opcode 0xff");
        assertContains(error(PickleBytes.proto2().op('i').bytes()), "unsupported pickle opcode 0x69 ('i')");   // INST
        assertContains(error(PickleBytes.proto2().op('P').bytes()), "unsupported pickle opcode 0x50 ('P')");   // PERSID
        assertContains(error(PickleBytes.proto2().op(0x82).bytes()), "unsupported pickle opcode 0x82");       // EXT1
        assertContains(error(new PickleBytes().op(0x80).raw(9).bytes()), "protocol 9");
    }

    @Test
    void truncatedPickles() {
        assertContains(error(PickleBytes.proto2().emptyDict().bytes()), "without a STOP opcode");
        assertContains(error(new byte[0]), "without a STOP opcode");
        assertContains(error(PickleBytes.proto2().op('J').raw(1, 2).bytes()), "needs 4");
        assertContains(error(PickleBytes.proto2().op('G').raw(1).bytes()), "needs 8");
        assertContains(error(new PickleBytes().op(0x80).raw(4).op(0x95).le(1000, 8).stop().bytes()), "FRAME of 1000 bytes");
    }

    @Test
    void hugeLengthsAreCheckedBeforeAllocating() {
        assertContains(error(PickleBytes.proto2().op('X').le(0x7FFFFFF0L, 4).raw('a', 'b', 'c').bytes()),
                "string of 2147483632 bytes is longer than the 3 bytes left");
        assertContains(error(PickleBytes.proto2().op('X').le(0xFFFFFFFFL, 4).bytes()), "string of 4294967295 bytes");
        assertContains(error(PickleBytes.proto2().op(0x8D).le(-1, 8).bytes()), "string of 18446744073709551615 bytes");
        assertContains(error(PickleBytes.proto2().op(0x8A).raw(200).raw(new byte[200]).stop().bytes()), "LONG1 of 200 bytes");
        assertContains(error(PickleBytes.proto2().op(0x8C).raw(2).raw(0xC3, 0x28).stop().bytes()), "not valid UTF-8");
    }

    @Test
    void memoIndicesOutOfRange() {
        assertContains(error(PickleBytes.proto2().binget(7).stop().bytes()), "memo index 7 was never stored (0 entries stored)");
        assertContains(error(PickleBytes.proto2().emptyList().binput(0).op('j').le(0xFFFFFFFFL, 4).stop().bytes()),
                "memo index 4294967295 was never stored (1 entries stored)");
        assertContains(error(PickleBytes.proto2().binput(0).bytes()), "PUT on an empty stack");
    }

    @Test
    void stackMisuse() {
        assertContains(error(PickleBytes.proto2().op('a').bytes()), "stack underflow");
        assertContains(error(PickleBytes.proto2().emptyDict().op('u').bytes()), "no MARK to pop to");
        assertContains(error(PickleBytes.proto2().emptyList().mark().op('0').bytes()), "stack underflow");   // POP below the MARK
        assertContains(error(PickleBytes.proto2().emptyList().mark().str("k").op('u').bytes()), "SETITEMS on a list, not a dict");
        assertContains(error(PickleBytes.proto2().emptyDict().integer(1).op('a').bytes()), "APPEND on a dict, not a list");
        assertContains(error(PickleBytes.proto2().mark().str("k").op('d').bytes()), "odd number of items (1)");
        assertContains(error(PickleBytes.proto2().emptyList().emptyDict().op('b').bytes()), "BUILD on a list is not supported");
        assertContains(error(PickleBytes.proto2().integer(1).integer(2).op(0x93).bytes()), "STACK_GLOBAL needs two strings");
        assertContains(error(PickleBytes.proto2().stop().bytes()), "stack underflow");
    }

    @Test
    void unhashableDictKeys() {
        assertContains(error(PickleBytes.proto2().emptyDict().emptyList().integer(1).op('s').stop().bytes()), "dict key is a list, not a hashable value");
        assertContains(error(PickleBytes.proto2().emptyDict().mark().emptyDict().op('t').integer(1).op('s').stop().bytes()), "dict key is a dict");
        PickleBytes deepKey = PickleBytes.proto2().emptyDict().integer(0);
        for (int i = 0; i < 20; i++) deepKey.op(0x85);
        assertContains(error(deepKey.integer(1).op('s').stop().bytes()), "tuple nested deeper than 8");
    }

    // ------------------------------------------------------------------------------------------ nesting, cycles

    @Test
    void deepNestingThroughTheMemoIsAnErrorNotAStackOverflow() {
        // [[[...]]] half a million levels deep, 7 bytes per level, with a stack that never holds more than 2 items
        PickleBytes p = PickleBytes.proto2().emptyList().binput(0).op('0');
        for (int i = 0; i < 500_000; i++) p.emptyList().binget(0).op('a').binput(0).op('0');
        String m = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> error(p.binget(0).stop().bytes()));
        assertContains(m, "nests containers deeper than 100 levels");
    }

    @Test
    void deepNestingThroughMarksIsAnError() {
        PickleBytes p = PickleBytes.proto2();
        for (int i = 0; i < 200; i++) p.mark();
        for (int i = 0; i < 200; i++) p.op('t');
        assertContains(error(p.stop().bytes()), "deeper than 100 levels");
    }

    @Test
    void nestingUpToTheLimitIsAccepted() throws PickleException {
        PickleBytes p = PickleBytes.proto2().emptyList().binput(0).op('0');
        for (int i = 1; i < Unpickler.MAX_DEPTH; i++) p.emptyList().binget(0).op('a').binput(0).op('0');
        assertTrue(load(p.binget(0).stop().bytes()) instanceof List);
        PickleBytes deeper = PickleBytes.proto2().emptyList().binput(0).op('0');
        for (int i = 0; i < Unpickler.MAX_DEPTH; i++) deeper.emptyList().binget(0).op('a').binput(0).op('0');
        assertContains(error(deeper.binget(0).stop().bytes()), "deeper than 100 levels");
    }

    @Test
    void referenceCyclesAreRefused() {
        assertContains(error(PickleBytes.proto2().emptyList().binput(0).binget(0).op('a').stop().bytes()), "contains itself");
        // a dict holding a list that holds the dict
        byte[] p = PickleBytes.proto2().emptyDict().binput(0).str("l").emptyList().binget(0).op('a').op('s').stop().bytes();
        assertContains(error(p), "reference cycle");
    }

    @Test
    void sharedSubtreesAreCheckedInLinearTime() throws PickleException {
        // L(i+1) = [L(i), L(i)]: 2^90 paths through 90 lists; the check must visit each list once
        PickleBytes p = PickleBytes.proto2().emptyList().binput(0);
        for (int i = 0; i < 90; i++) p.emptyList().mark().binget(0).binget(0).op('e').binput(0);
        byte[] bytes = p.stop().bytes();
        Object root = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> load(bytes));
        assertEquals(2, ((List<?>) root).size());
    }
}
