package io.lcowgd;

import io.lcowgd.cli.Command;
import io.lcowgd.cli.Commands;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Entry point of {@code scripts/lcow}: dispatches to one {@link Command}. */
public final class Main {
  private Main() {}

  public static void main(String[] argv) {
    System.exit(run(List.of(argv), System.out, System.err));
  }

  /** Runs the launcher and returns the exit code (kept apart from {@link #main} for tests). */
  public static int run(List<String> argv, PrintStream out, PrintStream err) {
    if (argv.isEmpty() || argv.get(0).equals("-h") || argv.get(0).equals("--help") || argv.get(0).equals("help")) {
      usage(argv.isEmpty() ? err : out);
      return argv.isEmpty() ? 2 : 0;
    }
    Optional<Command> cmd = Commands.all().stream().filter(c -> c.name().equals(argv.get(0))).findFirst();
    if (cmd.isEmpty()) {
      err.println("lcow: unknown command '" + argv.get(0) + "' (try 'lcow --help')");
      return 2;
    }
    try {
      return cmd.get().run(argv.subList(1, argv.size()), out, err);
    } catch (Exception e) {
      err.println("lcow " + argv.get(0) + ": " + oneLine(e));
      return 1;
    } catch (OutOfMemoryError e) {
      err.println("lcow " + argv.get(0) + ": out of memory");
      return 1;
    }
  }

  /** A single-line description of a failure: the message chain, without stack traces. */
  public static String oneLine(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null && sb.length() < 2000; t = t.getCause()) {
      String m = t.getMessage();
      if (m == null || m.isBlank()) {
        m = t.getClass().getSimpleName();
      }
      if (sb.indexOf(m) < 0) {
        if (sb.length() > 0) {
          sb.append(": ");
        }
        sb.append(m);
      }
    }
    return sb.toString().replace('\n', ' ');
  }

  private static void usage(PrintStream ps) {
    ps.println("usage: lcow COMMAND [ARGS]");
    for (Command c : Commands.all()) {
      ps.printf("  %-10s %s%n", c.name(), c.usage());
    }
  }

  static List<String> args(String... a) {
    return Arrays.asList(a);
  }
}
