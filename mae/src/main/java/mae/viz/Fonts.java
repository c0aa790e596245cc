package mae.viz;

import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;

/**
 * Whether this JVM can draw text. A headless server without FreeType (or without fonts) fails AWT's font manager
 * once and for every later use: seen on a GPU machine as "Could not initialize class sun.font.SunFontManager",
 * after an UnsatisfiedLinkError for libfreetype.so.6 at the first use. Pictures are then drawn without their text
 * ({@link ImageGrid}) or not at all ({@link LineChart}, whose axes are text), and training goes on.
 */
public final class Fonts {
    private Fonts() {}

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private static final String PROBLEM = probe();

    /** null when a sans-serif string can be measured, else the first failure, one line. */
    private static String probe() {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            g.getFontMetrics(new Font(Font.SANS_SERIF, Font.PLAIN, 12)).stringWidth("MAE");
            return null;
        } catch (LinkageError | InternalError | java.awt.AWTError | RuntimeException e) {
            return e.toString().replace('\n', ' ');
        } finally {
            g.dispose();
        }
    }

    public static boolean available() { return PROBLEM == null; }

    /** Why text cannot be drawn (null when it can). */
    public static String problem() { return PROBLEM; }
}
