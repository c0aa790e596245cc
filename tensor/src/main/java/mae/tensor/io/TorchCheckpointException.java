package mae.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A PyTorch checkpoint that cannot be read. The message starts with the file path and is one line: control
 * characters that came from the file (in an entry or tensor name) are escaped, and it is cut at 2,000 characters.
 */
public final class TorchCheckpointException extends IOException {
    private static final int MAX_MESSAGE = 2000;

    public TorchCheckpointException(Path file, String message) {
        super(oneLine(file + ": " + message));
    }

    public TorchCheckpointException(Path file, String message, Throwable cause) {
        super(oneLine(file + ": " + message), cause);
    }

    static String oneLine(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_MESSAGE + 8));
        int i = 0;
        for (; i < s.length() && sb.length() < MAX_MESSAGE; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        if (i < s.length() || sb.length() > MAX_MESSAGE) {   // cut: text left over, or an escape ran past the limit
            sb.setLength(MAX_MESSAGE);
            sb.append("...");
        }
        return sb.toString();
    }
}
