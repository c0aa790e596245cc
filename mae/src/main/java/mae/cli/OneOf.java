package mae.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The words a text option allows (compared ignoring case), or, with {@code configs}, the names of
 * {@link mae.model.MaeConfig#NAMED}. A list option (--masking random,block) checks each element. Checked by
 * {@link OptionChecks} before a command does any work.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface OneOf {
    String[] value() default {};
    /** What a value is, for the message: "--masking: unknown strategy 'x' (expected random, block or grid)". */
    String what() default "value";
    /** The value is a config name. */
    boolean configs() default false;
}
