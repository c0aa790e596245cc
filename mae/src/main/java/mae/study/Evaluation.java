package mae.study;

import mae.autograd.F;
import mae.autograd.Grad;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.data.Datasets;
import mae.data.Normalization;
import mae.eval.Knn;
import mae.eval.LinearProbe;
import mae.kernels.Workspace;
import mae.model.MaeConfig;
import mae.tensor.Tensor;
import mae.vit.VisionTransformer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The one evaluation protocol of a study, the same for every run: kNN on the mean-pooled patch features, the
 * paper's linear probe on the cls feature, both frozen and computed in one pass, then end-to-end fine-tuning;
 * always on the same held-out images.
 */
final class Evaluation {
    private Evaluation() {}

    /** The study's data: the training images and the held-out ones every run is scored on. */
    record Data(Dataset train, Dataset eval, Normalization norm, int classes, String description) {
        Dataset first(int limit) { return limit > 0 && train.n() > limit ? train.subset(0, limit) : train; }
    }

    static Data load(StudyOptions o, Path home) throws IOException {
        MaeConfig cfg = o.baseConfig();
        Datasets.Split split = Datasets.load(o.data(), home.resolve("data/fashion-mnist"), cfg.inChans(), cfg.imgSize());
        Dataset train = split.train(), eval = split.eval();
        if (o.evalLimit() > 0 && eval.n() > o.evalLimit()) eval = eval.subset(0, o.evalLimit());
        if (train.n() == 0 || eval.n() == 0) throw new IllegalArgumentException("empty dataset: " + split.description());
        int classes = 0;
        for (int l : train.labels()) classes = Math.max(classes, l + 1);
        for (int l : eval.labels()) classes = Math.max(classes, l + 1);
        return new Data(train, eval, Normalization.of(train), classes, split.description() + "; evaluated on " + eval.n() + " held-out images");
    }

    /** Frozen-feature scores: linear probe (cls) and kNN (mean of the patch tokens). */
    record Frozen(double linear, double knn, double seconds) {}

    static Frozen frozen(VisionTransformer enc, Data d, Augment aug, StudyOptions o, long seed) {
        long t0 = System.nanoTime();
        int need = o.probeTrainLimit() == 0 || o.knnBank() == 0 ? 0 : Math.max(o.probeTrainLimit(), o.knnBank()); // 0 = all
        Dataset train = d.first(need);
        float[][] ft = features(enc, train, aug), fe = features(enc, d.eval(), aug);
        int D = enc.dim;
        int nProbe = o.probeTrainLimit() > 0 ? Math.min(o.probeTrainLimit(), train.n()) : train.n();
        int nBank = o.knnBank() > 0 ? Math.min(o.knnBank(), train.n()) : train.n();
        int[] labels = train.labels();
        double linear = LinearProbe.run(java.util.Arrays.copyOf(ft[0], nProbe * D), java.util.Arrays.copyOf(labels, nProbe), fe[0], d.eval().labels(), D, d.classes(),
                new LinearProbe.Settings(o.probeEpochs(), Math.min(256, nProbe), StudyOptions.LINEAR_LR, Math.max(1, o.probeEpochs() / 10), seed));
        double knn = Knn.accuracy(java.util.Arrays.copyOf(ft[1], nBank * D), java.util.Arrays.copyOf(labels, nBank), fe[1], d.eval().labels(), D,
                StudyOptions.KNN_K, StudyOptions.KNN_T, d.classes());
        return new Frozen(linear, knn, (System.nanoTime() - t0) / 1e9);
    }

    /** {cls features, mean-pooled patch features}, each (n, D), from one forward pass over all patches. */
    static float[][] features(VisionTransformer enc, Dataset d, Augment aug) {
        int D = enc.dim, n = d.n(), B = 256, L = enc.numPatches();
        float[] cls = new float[n * D], mean = new float[n * D], x = new float[B * d.imageSize()];
        Workspace ws = new Workspace();
        try (Grad.Scope g = Grad.off()) {
            for (int i = 0; i < n; i += B) {
                int b = Math.min(B, n - i);
                int[] idx = new int[b];
                for (int j = 0; j < b; j++) idx[j] = i + j;
                aug.evalBatch(d, idx, x);
                try (Workspace.Scope s = ws.open()) {
                    Tensor imgs = Tensor.of(b == B ? x : java.util.Arrays.copyOf(x, b * d.imageSize()), b, d.c(), d.h(), d.w());
                    Var tokens = enc.forwardFeatures(Var.constant(imgs));                      // (b, 1 + L, D)
                    System.arraycopy(F.narrow(tokens, 1, 0, 1).value().toArray(), 0, cls, i * D, b * D);
                    System.arraycopy(F.mean(F.narrow(tokens, 1, 1, L), new int[]{1}, false).value().toArray(), 0, mean, i * D, b * D);
                }
            }
        }
        return new float[][]{cls, mean};
    }
}
