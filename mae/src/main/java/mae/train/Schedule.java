package mae.train;

/**
 * MAE's per-iteration learning rate on the fractional epoch e: linear warmup lr * e / warmup, then a
 * half-cosine from lr down to minLr at the last epoch.
 */
public record Schedule(double lr, double minLr, double warmupEpochs, double epochs) {
    public double at(double e) {
        if (e < warmupEpochs) return lr * e / warmupEpochs;
        double span = Math.max(1e-12, epochs - warmupEpochs);
        double t = Math.min(1, (e - warmupEpochs) / span);
        return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
    }

    /** lr = blr * effective batch / 256 (the paper's linear scaling rule). */
    public static double scaled(double blr, int effectiveBatch) { return blr * effectiveBatch / 256.0; }
}
