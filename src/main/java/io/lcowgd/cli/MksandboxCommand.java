package io.lcowgd.cli;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.sandbox.CloneMethod;
import io.lcowgd.sandbox.SandboxFactory;
import io.lcowgd.vhdx.Vhdx;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code lcow mksandbox OUT.vhdx [SIZE_GB]}: clones a blank sandbox (empty ext4 in a VHDX) from the cached template
 * of that size, making the template first when missing. The template cache is {@code $LCOW_CACHE} when set, else
 * {@code /var/lib/lcow/cache} for root (the driver's default data root), else {@code $XDG_CACHE_HOME/lcow} or
 * {@code ~/.cache/lcow}.
 */
public final class MksandboxCommand implements Command {
  private final Map<String, String> env;
  private final boolean root;

  /** The command as the launcher runs it: process environment and effective user. */
  public MksandboxCommand() {
    this(System.getenv(), "root".equals(System.getProperty("user.name")));
  }

  MksandboxCommand(Map<String, String> env, boolean root) {
    this.env = env;
    this.root = root;
  }

  @Override
  public String name() {
    return "mksandbox";
  }

  @Override
  public String usage() {
    return "OUT.vhdx [SIZE_GB]  new blank ext4 sandbox VHDX (default 20, minimum 20 GB), cloned from the template "
        + "cache ($LCOW_CACHE, else /var/lib/lcow/cache as root, else ~/.cache/lcow)";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    if (args.isEmpty() || args.size() > 2) {
      err.println("usage: lcow mksandbox " + usage());
      return 2;
    }
    int sizeGb = SandboxFactory.DEFAULT_SIZE_GB;
    if (args.size() == 2) {
      try {
        sizeGb = Integer.parseInt(args.get(1));
      } catch (NumberFormatException e) {
        err.println("lcow mksandbox: SIZE_GB must be a whole number of GB, not '" + args.get(1) + "'");
        return 2;
      }
      if (sizeGb < SandboxFactory.DEFAULT_SIZE_GB || sizeGb > SandboxFactory.MAX_SIZE_GB) {
        err.println("lcow mksandbox: size " + sizeGb + " GB is outside " + SandboxFactory.DEFAULT_SIZE_GB + ".."
            + SandboxFactory.MAX_SIZE_GB + " GB");
        return 2;
      }
    }
    Path dest = Path.of(args.get(0));
    SandboxFactory factory = new SandboxFactory(cacheDir());
    CloneMethod how = factory.create(dest, sizeGb);
    PayloadRange range = Vhdx.payloadRange(dest);
    out.printf("%s: %d GB sandbox (%s from %s); ext4 at offset %d, length %d; mount options %s%n", dest, sizeGb,
        how == CloneMethod.REFLINK ? "reflinked" : "sparse copy", factory.template(sizeGb), range.offset(),
        range.length(), SandboxFactory.HOST_MOUNT_OPTIONS);
    return 0;
  }

  /** Where templates are cached when the command is run by hand. */
  Path cacheDir() {
    String c = env.get("LCOW_CACHE");
    if (c != null && !c.isEmpty()) {
      return Path.of(c);
    }
    if (root) {
      return Path.of("/var/lib/lcow/cache");
    }
    String xdg = env.get("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isEmpty()) {
      return Path.of(xdg, "lcow");
    }
    return Path.of(System.getProperty("user.home"), ".cache", "lcow");
  }
}
