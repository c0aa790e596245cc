package mae.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/** A PyTorch checkpoint that cannot be read; the message is one line and starts with the file path. */
public final class TorchCheckpointException extends IOException {
    public TorchCheckpointException(Path file, String message) {
        super(file + ": " + message);
    }

    public TorchCheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
