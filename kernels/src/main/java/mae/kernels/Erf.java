package mae.kernels;

/**
 * The error function in double precision (Java's Math has none).
 * |x| < 2.5: the Maclaurin series, 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)), whose largest term there is
 * below e^(x^2) ~ 520, so about 13 significant digits survive the cancellation.
 * |x| >= 2.5: erfc from its continued fraction (Lentz), which converges quickly for large x.
 */
public final class Erf {
    private Erf() {}

    static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    static final double INV_SQRT_PI = 0.5641895835477563;

    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax < 2.5) return series(x);
        if (ax > 6) return Math.signum(x);
        return Math.signum(x) * (1 - erfcContinuedFraction(ax));
    }

    private static double series(double x) {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 100; n++) {
            term *= -x2 / n;                 // (-1)^n x^(2n+1) / n!
            double t = term / (2 * n + 1);
            sum += t;
            if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
        }
        return TWO_OVER_SQRT_PI * sum;
    }

    /** erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), x > 0. */
    private static double erfcContinuedFraction(double x) {
        double tiny = 1e-300, f = x, c = x, d = 0;
        for (int n = 1; n < 300; n++) {
            double a = n * 0.5;
            d = x + a * d; if (d == 0) d = tiny; d = 1 / d;
            c = x + a / c; if (c == 0) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) * INV_SQRT_PI / f;
    }
}
