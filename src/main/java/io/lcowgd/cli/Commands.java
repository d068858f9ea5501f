package io.lcowgd.cli;

import io.lcowgd.Wiring;
import java.util.List;

/** The launcher's command table. */
public final class Commands {
  private Commands() {}

  /** Every command, in the order the usage text lists them. */
  public static List<Command> all() {
    return List.of(new ServeCommand(Wiring.driverFactory()), new Tar2VhdCommand(), new Vhd2TarCommand(),
        new InspectCommand(), new MksandboxCommand());
  }
}
