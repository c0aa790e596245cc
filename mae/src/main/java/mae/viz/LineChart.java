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

    /** One line, default size, linear axes. */
    public static void write(Path png, String title, String xLabel, String yLabel, double[] x, double[] y) throws IOException {
        write(png, title, xLabel, yLabel, List.of(new Series(yLabel, x, y)), DEFAULT_WIDTH, DEFAULT_HEIGHT, false);
    }

    /** Several lines (a legend is shown when there are two or more), optionally on a logarithmic y axis. */
    public static void write(Path png, String title, String xLabel, String yLabel, List<Series> series,
                             int width, int height, boolean logY) throws IOException {
        if (width < 100 || height < 100) throw new IllegalArgumentException(png + ": chart size " + width + "x" + height + " is below 100x100");
        BufferedImage img = render(title, xLabel, yLabel, series, logY).createBufferedImage(width, height);
        Png.write(png, img);
    }

    static JFreeChart render(String title, String xLabel, String yLabel, List<Series> series, boolean logY) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, collection(series, logY),
                PlotOrientation.VERTICAL, series.size() > 1, false, false);
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
