package mae.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

import static org.junit.jupiter.api.Assertions.*;

/** Main.message: what a failure says, naming the file where the exception knows it, always on one line. */
class MainMessageTest {
    @Test void file_system_exceptions_name_the_file_and_the_reason() {
        assertEquals("/x/w.safetensors: no such file or directory", Main.message(new NoSuchFileException("/x/w.safetensors")));   // was: the bare path
        assertEquals("/x: permission denied", Main.message(new AccessDeniedException("/x")));
        assertEquals("/x/a: not a directory", Main.message(new NotDirectoryException("/x/a")));
        assertEquals("/x/a -> /y/b: No space left on device", Main.message(new FileSystemException("/x/a", "/y/b", "No space left on device")));
        assertEquals("/d: FileSystemException", Main.message(new FileSystemException("/d")));
    }

    @Test void errors_without_context_say_what_kind_they_are() {
        assertTrue(Main.message(new OutOfMemoryError("Java heap space")).startsWith("out of memory (Java heap space): the Java heap is too small"));
        assertEquals("internal error: IndexOutOfBoundsException: Index 24 out of bounds for length 24 (MAE_DEBUG=1 prints the stack trace)",
                Main.message(new IndexOutOfBoundsException("Index 24 out of bounds for length 24")));
        assertEquals("internal error: NullPointerException (MAE_DEBUG=1 prints the stack trace)", Main.message(new NullPointerException()));
        assertEquals("IllegalStateException", Main.message(new IllegalStateException()));
        assertEquals("w.safetensors: bad", Main.message(new IllegalArgumentException("w.safetensors: bad")));
    }

    @Test void a_message_is_one_line_of_bounded_length() {
        assertEquals("f: name 'a\\nb\\tc\\u0007' is odd", Main.oneLine("f: name 'a\nb\tc\u0007' is odd"));
        String longer = Main.oneLine("x".repeat(5000));
        assertEquals(Main.MAX_MESSAGE + 3, longer.length());
        assertTrue(longer.endsWith("..."));
    }
}
