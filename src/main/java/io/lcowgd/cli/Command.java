package io.lcowgd.cli;

import java.io.PrintStream;
import java.util.List;

/** One subcommand of the {@code lcow} launcher. */
public interface Command {

  /** The name typed on the command line, e.g. {@code tar2vhd}. */
  String name();

  /** One line for the usage summary: arguments and purpose. */
  String usage();

  /**
   * Runs the command. Returns the process exit code: 0 on success, 2 for a usage error, 1 for any other failure
   * (after printing a one-line error to {@code err}).
   */
  int run(List<String> args, PrintStream out, PrintStream err) throws Exception;
}
