package mae.tensor;

/** Where a tensor's storage lives. Only CPU storage exists in this build; CUDA arrives with the CUDA backend. */
public enum Device {
    CPU, CUDA;

    /** Parses "cpu" or "cuda" (the --device flag). */
    public static Device parse(String s) {
        switch (s.toLowerCase()) {
            case "cpu": return CPU;
            case "cuda": return CUDA;
            default: throw new IllegalArgumentException("unknown device '" + s + "' (expected cpu or cuda)");
        }
    }
}
