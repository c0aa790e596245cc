package mae.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Line charts (loss curves) as PNG, drawn by JFreeChart with headless AWT. Non-finite y values (a NaN loss)
 * leave a gap in the line rather than breaking the axis range.
 */
public final class LineChart {
    public static final int DEFAULT_WIDTH = 900, DEFAULT_HEIGHT = 540;

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private LineChart() {}

    /** One named line: y[i] at x[i]. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            Objects.requireNonNull(name, "series name");
            if (x.length != y.length) throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
        }
    }

    /** One line, default size, linear axes. False, and nothing written, where this JVM cannot draw text ({@link Fonts}). */
    public static boolean write(Path png, String title, String xLabel, String yLabel, double[] x, double[] y) throws IOException {
        return write(png, title, xLabel, yLabel, List.of(new Series(yLabel, x, y)), DEFAULT_WIDTH, DEFAULT_HEIGHT, false);
    }

    /** Several lines (a legend is shown when there are two or more), optionally on a logarithmic y axis; false as above. */
    public static boolean write(Path png, String title, String xLabel, String yLabel, List<Series> series,
                                int width, int height, boolean logY) throws IOException {
        if (width < 100 || height < 100) throw new IllegalArgumentException(png + ": chart size " + width + "x" + height + " is below 100x100");
        if (!Fonts.available()) return false;
        BufferedImage img = render(title, xLabel, yLabel, series, logY).createBufferedImage(width, height);
        Png.write(png, img);
        return true;
    }

    /**
     * The training chart: the raw loss per step (thin, light), the loss smoothed by an exponential moving average
     * (the span in its legend), and the learning rate on a second axis on the right (dashed).
     */
    public static boolean training(Path png, String title, double[] step, double[] loss, double[] lr) throws IOException {
        if (!Fonts.available()) return false;
        Png.write(png, renderTraining(title, step, loss, lr).createBufferedImage(DEFAULT_WIDTH, DEFAULT_HEIGHT));
        return true;
    }

    /** Steps averaged by the smoothed loss's moving average: a 25th of the run, from 1 to 100. */
    static int smoothingSpan(int n) { return Math.max(1, Math.min(100, n / 25)); }

    /**
     * Exponential moving average with weight 1 - 1/span per step, bias-corrected at the start (as TensorBoard's
     * smoothing); non-finite values are skipped and stay NaN.
     */
    static double[] smooth(double[] y, int span) {
        double w = 1 - 1.0 / span, acc = 0, norm = 0;
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            if (!Double.isFinite(y[i])) { out[i] = Double.NaN; continue; }
            acc = w * acc + (1 - w) * y[i];
            norm = w * norm + (1 - w);
            out[i] = acc / norm;
        }
        return out;
    }

    static JFreeChart renderTraining(String title, double[] step, double[] loss, double[] lr) {
        int span = smoothingSpan(loss.length);
        List<Series> losses = List.of(new Series("loss", step, loss),
                new Series(span > 1 ? "loss, smoothed (moving average over ~" + span + " steps)" : "loss, smoothed (none: a short run)", step, smooth(loss, span)));
        JFreeChart chart = render(title, "step", "loss", losses, false);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer r0 = (XYLineAndShapeRenderer) plot.getRenderer();
        r0.setSeriesPaint(0, new Color(0x9DBBD9));
        r0.setSeriesStroke(0, new BasicStroke(1f));
        r0.setSeriesPaint(1, new Color(0x1F4E89));
        r0.setSeriesStroke(1, new BasicStroke(2.5f));
        NumberAxis lrAxis = new NumberAxis("learning rate");
        lrAxis.setAutoRangeIncludesZero(true);
        lrAxis.setNumberFormatOverride(new java.text.DecimalFormat("0.0##E0"));
        plot.setRangeAxis(1, lrAxis);
        plot.setDataset(1, collection(List.of(new Series("learning rate (right axis)", step, lr)), false));
        plot.mapDatasetToRangeAxis(1, 1);
        XYLineAndShapeRenderer r1 = new XYLineAndShapeRenderer(true, false);
        r1.setSeriesPaint(0, new Color(0xE8772E));
        r1.setSeriesStroke(0, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
        plot.setRenderer(1, r1);
        chart.getLegend().setBackgroundPaint(Color.WHITE);
        return chart;
    }

    static JFreeChart render(String title, String xLabel, String yLabel, List<Series> series, boolean logY) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, collection(series, logY),
                PlotOrientation.VERTICAL, series.size() > 1, false, false);
        if (chart.getLegend() != null) chart.getLegend().setBackgroundPaint(Color.WHITE);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(false);
        if (logY) plot.setRangeAxis(new LogAxis(yLabel));
        else ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < series.size(); i++) renderer.setSeriesStroke(i, new BasicStroke(2f));
        plot.setRenderer(renderer);
        return chart;
    }

    private static XYSeriesCollection collection(List<Series> series, boolean logY) {
        XYSeriesCollection data = new XYSeriesCollection();
        Set<String> names = new HashSet<>();
        for (Series s : series) {
            if (!names.add(s.name())) throw new IllegalArgumentException("series name '" + s.name() + "' is used twice");
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                double y = s.y()[i];
                if (logY && y <= 0) throw new IllegalArgumentException("series '" + s.name() + "': y[" + i + "] = " + y + " cannot go on a log axis");
                if (Double.isFinite(s.x()[i])) xy.add(s.x()[i], Double.isFinite(y) ? y : Double.NaN);
            }
            data.addSeries(xy);
        }
        return data;
    }
}
