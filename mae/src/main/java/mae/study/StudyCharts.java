package mae.study;

import mae.viz.Png;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The study's pictures in the paper's style, drawn by JFreeChart: accuracy against mask ratio as in Figure 5
 * (fine-tuning above, the frozen-feature probes below, since their ranges differ as much as in the paper), and
 * grouped bars for the ablations (the paper has tables there). Error bars are one standard deviation over seeds.
 */
final class StudyCharts {
    static final int WIDTH = 760, HEIGHT = 480;
    static final Paint FINETUNE = new Color(0x1f, 0x5f, 0xbf), LINEAR = new Color(0xd0, 0x6a, 0x1a), KNN = new Color(0x3a, 0x9a, 0x4a),
            OTHER = new Color(0x80, 0x80, 0x80);

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private StudyCharts() {}

    /** One measured quantity: a name and per x (or category) its mean and standard deviation (NaN = not measured). */
    record Series(String name, double[] mean, double[] sd) {}

    /** Figure 5's layout: x = mask ratio in %, a fine-tuning panel above a linear probe / kNN panel. */
    static void maskRatio(Path png, String title, double[] ratios, Series finetune, List<Series> probes) throws IOException {
        NumberAxis x = new NumberAxis("masking ratio (%)");
        x.setAutoRangeIncludesZero(false);
        x.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(5));
        double lo = 100, hi = 0;
        for (double r : ratios) { lo = Math.min(lo, 100 * r); hi = Math.max(hi, 100 * r); }
        x.setRange(Math.max(0, lo - 5), Math.min(100, hi + 5));
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(x);
        plot.setGap(12);
        plot.add(panel("fine-tuning top-1 (%)", ratios, List.of(finetune), new Paint[]{FINETUNE}), 1);
        plot.add(panel("frozen features top-1 (%)", ratios, probes, new Paint[]{LINEAR, KNN}), 1);
        JFreeChart chart = new JFreeChart(title, new Font("SansSerif", Font.BOLD, 15), plot, true);
        style(chart);
        Png.write(png, chart.createBufferedImage(WIDTH, 620));
    }

    private static XYPlot panel(String yLabel, double[] xs, List<Series> series, Paint[] colors) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (Series s : series) {
            YIntervalSeries y = new YIntervalSeries(s.name());
            for (int i = 0; i < xs.length; i++)
                if (Double.isFinite(s.mean()[i])) {
                    double sd = Double.isFinite(s.sd()[i]) ? s.sd()[i] : 0;
                    y.add(100 * xs[i], 100 * s.mean()[i], 100 * (s.mean()[i] - sd), 100 * (s.mean()[i] + sd));
                }
            data.addSeries(y);
        }
        NumberAxis yAxis = new NumberAxis(yLabel);
        yAxis.setAutoRangeIncludesZero(false);
        yAxis.setAutoRangeMinimumSize(2.0);
        XYErrorRenderer r = new XYErrorRenderer();
        r.setDefaultLinesVisible(true);
        r.setDefaultShapesVisible(true);
        r.setDrawXError(false);
        r.setCapLength(6);
        for (int i = 0; i < series.size(); i++) {
            r.setSeriesPaint(i, colors[i % colors.length]);
            r.setSeriesStroke(i, new BasicStroke(2.2f));
        }
        XYPlot p = new XYPlot(data, null, yAxis, r);
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(Color.LIGHT_GRAY);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return p;
    }

    /** Grouped bars: one group per category (a variant), one bar per series (fine-tune, linear, kNN), in %. */
    static void bars(Path png, String title, String xLabel, List<String> categories, List<Series> series) throws IOException {
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series)
            for (int i = 0; i < categories.size(); i++) {
                double m = s.mean()[i], sd = Double.isFinite(s.sd()[i]) ? s.sd()[i] : 0;
                data.add(Double.isFinite(m) ? Double.valueOf(100 * m) : null, Double.isFinite(m) && Double.isFinite(s.sd()[i]) ? Double.valueOf(100 * sd) : null,
                        s.name(), categories.get(i));
                if (Double.isFinite(m)) { lo = Math.min(lo, 100 * (m - sd)); hi = Math.max(hi, 100 * (m + sd)); }
            }
        JFreeChart chart = ChartFactory.createBarChart(title, xLabel, "top-1 accuracy (%)", data, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot p = chart.getCategoryPlot();
        StatisticalBarRenderer r = new StatisticalBarRenderer();
        r.setErrorIndicatorPaint(Color.BLACK);
        r.setDrawBarOutline(false);
        r.setShadowVisible(false);
        r.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        r.setItemMargin(0.05);
        Paint[] colors = {FINETUNE, LINEAR, KNN, OTHER};
        for (int i = 0; i < series.size(); i++) r.setSeriesPaint(i, colors[i % colors.length]);
        p.setRenderer(r);
        NumberAxis y = (NumberAxis) p.getRangeAxis();
        if (Double.isFinite(lo)) {
            // The bars start below the lowest value, as the differences are a few points out of ~80-90.
            double span = Math.max(2, hi - lo), bottom = Math.max(0, Math.floor((lo - 0.35 * span) / 5) * 5);
            y.setRange(bottom, Math.min(100, hi + 0.12 * span + 0.5));
        }
        CategoryAxis x = p.getDomainAxis();
        if (categories.size() > 3) x.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        x.setMaximumCategoryLabelLines(3);
        style(chart);
        p.setBackgroundPaint(Color.WHITE);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        Png.write(png, chart.createBufferedImage(WIDTH, HEIGHT));
    }

    /** Plain bars of one quantity per category, with its unit (the speed check's milliseconds per step). */
    static void plainBars(Path png, String title, String yLabel, List<String> categories, double[] values) throws IOException {
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        for (int i = 0; i < categories.size(); i++) data.add(values[i], 0, "measured", categories.get(i));
        JFreeChart chart = ChartFactory.createBarChart(title, null, yLabel, data, PlotOrientation.VERTICAL, false, false, false);
        CategoryPlot p = chart.getCategoryPlot();
        StatisticalBarRenderer r = new StatisticalBarRenderer();
        r.setShadowVisible(false);
        r.setDrawBarOutline(false);
        r.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        r.setSeriesPaint(0, FINETUNE);
        r.setMaximumBarWidth(0.25);
        p.setRenderer(r);
        p.setBackgroundPaint(Color.WHITE);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        style(chart);
        Png.write(png, chart.createBufferedImage(WIDTH, 400));
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        if (legend != null) legend.setPosition(RectangleEdge.BOTTOM);
    }
}
