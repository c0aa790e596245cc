package mae.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that cannot be read or written; the message starts with the file path. */
public final class SafetensorsException extends IOException {
    public SafetensorsException(Path file, String message) {
        super(file + ": " + message);
    }

    public SafetensorsException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
