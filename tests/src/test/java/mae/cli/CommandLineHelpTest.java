package mae.cli;

import mae.model.MaeConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a newcomer reads: every option of every command says what it does and its default, --config lists the
 * known configs, and bin/mae --help ends with the three commands to run first.
 */
class CommandLineHelpTest {
    static String out(String... args) {
        PrintStream was = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run(args), String.join(" ", args));
        } finally {
            System.setOut(was);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test void every_option_of_every_command_has_a_description_with_its_default() {
        List<String> missing = new ArrayList<>();
        int options = 0;
        for (CommandLine c : CommandLineChecksTest.allCommands()) {
            for (OptionSpec o : c.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) continue;                  // --help, --version
                options++;
                String where = c.getCommandSpec().qualifiedName() + " " + o.longestName();
                String d = String.join(" ", o.description()).toLowerCase(Locale.ROOT);
                if (d.isBlank()) missing.add(where + ": no description");
                else if (!o.required() && !d.contains("default")) missing.add(where + ": no default in '" + d + "'");
            }
        }
        assertEquals(List.of(), missing);
        assertTrue(options > 60, "options walked: " + options);
    }

    /** A '%' in a description is a format specifier to picocli: unescaped, the help prints a warning and raw text. */
    @Test void every_command_renders_its_help_without_a_picocli_warning() {
        PrintStream was = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int commands = 0;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            for (CommandLine c : CommandLineChecksTest.allCommands()) {
                String usage = c.getUsageMessage();
                assertFalse(usage.contains("%n"), c.getCommandSpec().qualifiedName() + " help shows a raw %n:\n" + usage);
                commands++;
            }
        } finally {
            System.setErr(was);
        }
        assertEquals("", err.toString(StandardCharsets.UTF_8));
        assertTrue(commands > 15, "commands walked: " + commands);
    }

    @Test void config_help_lists_every_known_config() {
        for (String name : MaeConfig.NAMED.keySet()) assertTrue(Configs.KNOWN.contains(name), name + " in " + Configs.KNOWN);
        int configOptions = 0;
        for (CommandLine c : CommandLineChecksTest.allCommands()) {
            OptionSpec o = c.getCommandSpec().findOption("--config");
            if (o == null) continue;
            configOptions++;
            String d = String.join(" ", o.description());
            for (String name : MaeConfig.NAMED.keySet()) assertTrue(d.contains(name), c.getCommandSpec().qualifiedName() + " --config lists " + name + ": " + d);
        }
        assertTrue(configOptions >= 6, "commands with --config: " + configOptions);
        String help = out("pretrain", "--help");
        for (String name : MaeConfig.NAMED.keySet()) assertTrue(help.replaceAll("\\s+", " ").contains(name), name + " in pretrain --help:\n" + help);
    }

    @Test void the_top_level_help_ends_with_the_first_three_commands() {
        List<String> lines = out("--help").strip().lines().toList();
        List<String> last = lines.subList(lines.size() - 3, lines.size());
        assertTrue(last.get(0).strip().startsWith("bin/mae pretrain"), String.join("\n", lines));
        assertTrue(last.get(1).strip().startsWith("bin/mae probe"), String.join("\n", lines));
        assertTrue(last.get(2).strip().startsWith("bin/mae explain"), String.join("\n", lines));
        for (String l : lines) assertTrue(l.length() <= 80, "fits 80 columns: " + l);
    }

    @Test void threads_sets_the_kernel_threads_for_the_command_on_any_command() {
        int before = mae.kernels.Parallel.threads();
        String o = out("bench", "gemm", "--m", "16", "--n", "16", "--k", "16", "--runs", "1", "--threads", "3");
        assertTrue(o.contains("threads 3"), o);
        o = out("--threads", "1", "bench", "gemm", "--m", "16", "--n", "16", "--k", "16", "--runs", "1");
        assertTrue(o.contains("threads 1"), o);
        assertEquals(before, mae.kernels.Parallel.threads(), "restored after the command");
        assertEquals(1, CommandLineChecksTest.run("probe", "--threads", "0", "--checkpoint", "/nonexistent").rc());
        assertTrue(CommandLineChecksTest.run("probe", "--threads", "0", "--checkpoint", "/nonexistent").err()
                .startsWith("error: --threads must be an integer from 1 to 1024, got 0"));
    }

    /** The option a flag name belongs to in a command, parsed from a line of it. */
    static OptionSpec option(CommandLine.ParseResult p, String flag) {
        List<CommandLine> l = p.asCommandLineList();
        return l.get(l.size() - 1).getCommandSpec().findOption(flag);
    }

    @Test void the_official_flag_names_are_aliases_of_ours() {
        String[][] pretrain = {{"--batch_size", "--batch"}, {"--accum_iter", "--accum"}, {"--model", "--config"}, {"--input_size", "--input-size"},
                {"--mask_ratio", "--mask-ratio"}, {"--norm_pix_loss", "--norm-pix"}, {"--weight_decay", "--weight-decay"}, {"--lr", "--lr"},
                {"--blr", "--blr"}, {"--min_lr", "--min-lr"}, {"--warmup_epochs", "--warmup-epochs"}, {"--data_path", "--data"},
                {"--output_dir", "--out"}, {"--resume", "--resume"}, {"--seed", "--seed"}, {"--epochs", "--epochs"}};
        CommandLine.ParseResult pr = Main.commandLine().parseArgs("pretrain");
        for (String[] a : pretrain) {
            assertNotNull(option(pr, a[0]), "pretrain " + a[0]);
            assertSame(option(pr, a[0]), option(pr, a[1]), a[0] + " is " + a[1]);
        }
        for (String cmd : List.of("probe", "finetune")) {
            CommandLine.ParseResult p = Main.commandLine().parseArgs(cmd);
            for (String[] a : new String[][]{{"--batch_size", "--batch"}, {"--model", "--config"}, {"--data_path", "--data"}, {"--finetune", "--checkpoint"},
                    {"--lr", "--lr"}, {"--blr", "--blr"}, {"--input_size", "--input-size"}, {"--seed", "--seed"}, {"--epochs", "--epochs"}}) {
                assertNotNull(option(p, a[0]), cmd + " " + a[0]);
                assertSame(option(p, a[0]), option(p, a[1]), cmd + " " + a[0] + " is " + a[1]);
            }
        }
        CommandLine.ParseResult probe = Main.commandLine().parseArgs("probe");
        for (String[] a : new String[][]{{"--min_lr", "--min-lr"}, {"--weight_decay", "--weight-decay"}, {"--warmup_epochs", "--warmup-epochs"}})
            assertSame(option(probe, a[0]), option(probe, a[1]), "probe " + a[0]);
    }

    @Test void messages_name_the_flag_as_typed() {
        CommandLineChecksTest.Run r = CommandLineChecksTest.run("pretrain", "--batch_size", "0", "--out", "/nonexistent/x");
        assertEquals(1, r.rc());
        assertTrue(r.err().startsWith("error: --batch_size must be an integer from 1 to 65536, got 0"), r.err());
        r = CommandLineChecksTest.run("pretrain", "--batch", "0", "--out", "/nonexistent/x");
        assertTrue(r.err().startsWith("error: --batch must be an integer from 1 to 65536, got 0"), r.err());
        r = CommandLineChecksTest.run("pretrain", "--accum_iter=abc");
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("'--accum_iter': 'abc' is not an int"), r.err());
        r = CommandLineChecksTest.run("pretrain", "--accum", "abc");
        assertTrue(r.err().contains("'--accum': 'abc' is not an int"), r.err());
    }

    @Test void official_values_parse_to_the_same_settings() {
        CommandLine cl = Main.commandLine();
        cl.parseArgs("pretrain", "--model", "mae_vit_base_patch16", "--batch_size", "32", "--accum_iter", "4", "--mask_ratio", "0.6",
                "--norm_pix_loss", "--weight_decay", "0.1", "--blr", "1e-3", "--min_lr", "1e-6", "--warmup_epochs", "2", "--input_size", "224",
                "--output_dir", "out", "--data_path", "d", "--seed", "7", "--lr", "4e-4");
        PretrainCommand p = cl.getSubcommands().get("pretrain").getCommand();
        assertEquals("mae_vit_base_patch16", p.config);
        assertEquals(32, p.batch);
        assertEquals(4, p.accum);
        assertEquals(0.6, p.maskRatio);
        assertTrue(p.normPix);
        assertEquals(0.1, p.weightDecay);
        assertEquals(1e-6, p.minLr);
        assertEquals(2.0, p.warmupEpochs);
        assertEquals(224, p.inputSize);
        assertEquals(java.nio.file.Path.of("out"), p.out);
        assertEquals(java.nio.file.Path.of("d"), p.data);
        assertEquals(7L, p.seed);
        assertEquals(4e-4, p.lr);

        cl = Main.commandLine();
        cl.parseArgs("finetune", "--model", "vit_base_patch16");
        assertEquals("mae_vit_base_patch16", ((FinetuneCommand) cl.getSubcommands().get("finetune").getCommand()).config,
                "the official fine-tuning name of the encoder reads as its MAE config");
    }

    @Test void absolute_lr_overrides_blr_and_blr_scales_with_the_effective_batch() {
        mae.train.RunOptions o = new mae.train.RunOptions("tiny", null, 1, 8, 16, 2, 1e-3, -1, 0.75, "random", true, 0, 0, 1, "cpu");
        assertEquals(1e-3 * 32 / 256, o.peakLr(), 1e-15, "lr = blr x batch x accum / 256");
        mae.train.RunOptions withLr = new mae.train.RunOptions("tiny", null, 1, 8, 16, 2, 1e-3, -1, 0.75, "random", true, 0, 0, 1, "cpu", 0.05, 4e-4, 0, 0);
        assertEquals(4e-4, withLr.peakLr(), "an absolute lr wins over blr");
    }
}
