package mae.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The values a numeric option allows, declared next to the option and checked by {@link OptionChecks} before a
 * command does any work. Floating-point values must also be finite (NaN and Infinity are never allowed). Every
 * numeric option of every command carries one (OptionChecksTest walks them all).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Range {
    double min();
    double max();
    /** min itself is not allowed (e.g. a learning rate must be above 0). */
    boolean minOpen() default false;
    /** max itself is not allowed (e.g. a mask ratio below 1). */
    boolean maxOpen() default false;
    /** What a special value means, added to the message (e.g. "0 = all"). */
    String note() default "";
}
