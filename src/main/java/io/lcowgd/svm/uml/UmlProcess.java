package io.lcowgd.svm.uml;

import io.lcowgd.io.Failures;
import io.lcowgd.io.FileTrees;
import io.lcowgd.io.HostCommand;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code linux.uml} process of one service VM and its {@link GuestAgent}: started confined by a {@link GuestJail}
 * from the {@code scripts/build-uvm} initramfs (its own process group, a unique umid, the agent's FIFOs on descriptors
 * 3 to 5), driven through its mconsole socket, and destroyed by killing its whole process group and deleting its run
 * directory. Its console log explains a death ({@link #deathNote()}).
 */
final class UmlProcess {
  /**
   * Boot tuning (docs/uml.md, "Boot time"): skip the raid6 benchmark and two slow initcalls (utility-vms.md U13),
   * create no legacy BSD ptys (the default 256 pairs are 512 devtmpfs nodes, each a round trip to kdevtmpfs:
   * 0.4 s of every boot), and preset loops_per_jiffy instead of calibrating the delay loop (~10 ticks at HZ=100,
   * ~0.1 s; the value only scales udelay(), which no UML driver the guest uses depends on).
   */
  static final List<String> FAST_BOOT = List.of("initcall_blacklist=raid6_select_algo,init_zswap,strp_dev_init",
      "pty.legacy_count=0", "lpj=9773056");

  private final String id;
  private final String umid;
  private final Path runDir;
  private final Path console;
  private final Path mconsole;
  private volatile Process process;
  private volatile GuestAgent agent;
  private volatile boolean terminated;

  /** A guest not started yet, for VM {@code id} under {@code umid} with run directory {@code runDir}. */
  UmlProcess(String id, String umid, Path runDir, GuestJail jail) {
    this.id = id;
    this.umid = umid;
    this.runDir = runDir;
    this.console = runDir.resolve("console.log");
    this.mconsole = jail.umlDir().resolve(umid).resolve("mconsole");
  }

  /**
   * Creates the agent FIFOs in the run directory, opens the agent on them, starts the UML kernel confined by
   * {@code jail} and returns once the agent said hello (within the boot timeout). After a failure, {@link #destroy()}
   * removes whatever was started.
   */
  void start(UvmImage image, UmlOptions options, GuestJail jail) throws IOException {
    HostCommand.of(List.of("mkfifo", "-m", "600", runDir.resolve("ci").toString(), runDir.resolve("co").toString(),
        runDir.resolve("dout").toString()), "create the agent FIFOs of service VM " + id).run();
    GuestAgent a = new GuestAgent(id, runDir.resolve("ci"), runDir.resolve("co"), runDir.resolve("dout"),
        this::deathNote);
    agent = a;
    // The root shell opens the FIFOs and the initrd (the guest uid may not reach the kirdpath), then the guest
    // runs confined (GuestJail.wrap) and reads its initrd through the inherited descriptor 6.
    List<String> uml = new ArrayList<>(List.of(image.kernel().toString(),
        "mem=" + options.memoryMiB() + "M", "umid=" + umid, "uml_dir=" + jail.umlDir(), "con=null", "ssl=null",
        "ssl1=fd:3,fd:4", "ssl2=null,fd:5", "hostfs=" + runDir.resolve("hostfs"),
        "initrd=/proc/self/fd/6", "rdinit=/init", "quiet"));
    uml.addAll(FAST_BOOT);
    uml.addAll(image.bootParameters());
    List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c",
        "i=$0; exec \"$@\" 3<ci 4>co 5>dout 6<\"$i\" </dev/null", image.initrd().toString()));
    cmd.addAll(jail.wrap(uml));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(runDir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(console.toFile()).redirectErrorStream(true);
    pb.environment().put("TMPDIR", "/dev/shm");
    pb.environment().putAll(jail.environment(List.of(runDir, image.kernel())));
    Process p = pb.start();
    process = p; // from here on, destroy() kills it
    jail.started(p.pid());
    p.onExit().thenRun(a::guestExited);
    a.awaitHello(options.bootTimeout());
  }

  /** The agent of the started guest. */
  GuestAgent agent() {
    return agent;
  }

  /** The host pid of the UML kernel process (leader of the guest's process group). */
  long pid() {
    return process.pid();
  }

  /** Whether the UML process runs, {@link #markTerminated()} was not called, and its agent is in step. */
  boolean alive() {
    Process p = process;
    return p != null && p.isAlive() && !terminated && !agent.outOfStep();
  }

  /** Marks the guest as being terminated; returns false if it already was. */
  boolean markTerminated() {
    if (terminated) {
      return false;
    }
    terminated = true;
    return true;
  }

  /** "service VM ... is not running: <death note>", caused by {@code cause} (may be null). */
  IOException notRunning(String suffix, Throwable cause) {
    return new IOException("service VM " + id + " is not running: " + deathNote() + suffix, cause);
  }

  /** {@code e} itself while the guest is alive; else an error saying it is not running, {@code during} something. */
  IOException explain(IOException e, String during) {
    return alive() ? e : notRunning(" (" + during + ")", e);
  }

  /**
   * Sends an mconsole command ({@code uml_mconsole <socket> args...}) and returns the reply (its last output line,
   * e.g. {@code OK}); fails saying the guest is not running when it is not, or dies meanwhile.
   */
  String mconsole(String... args) throws IOException {
    if (!alive()) {
      throw notRunning("", null);
    }
    List<String> cmd = new ArrayList<>(List.of("uml_mconsole", mconsole.toString()));
    cmd.addAll(List.of(args));
    // uml_mconsole first looks for the name under ~/.uml and prints warnings; the reply is its last line.
    Process p = process;
    String out;
    try {
      out = HostCommand.of(cmd, "mconsole " + String.join(" ", args) + " in service VM " + id)
          .abandonWhen(() -> !p.isAlive(), "the UML process exited").run().strip();
    } catch (HostCommand.Abandoned e) {
      throw notRunning("", e);
    } catch (IOException e) {
      // uml_mconsole failed (e.g. "Connection refused" from a guest being killed): if the guest is dying, say that,
      // not the symptom (its exit may trail the closed socket by a few milliseconds).
      if (exitsWithin(p, 500)) {
        throw notRunning("", e);
      }
      throw e;
    }
    int nl = out.lastIndexOf('\n');
    return nl < 0 ? out : out.substring(nl + 1);
  }

  private static boolean exitsWithin(Process p, long millis) {
    try {
      return p.waitFor(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.isAlive();
    }
  }

  /** Why the guest is not answering: not started, exited (with status), or running without an answering agent. */
  String deathNote() {
    Process p = process;
    StringBuilder s = new StringBuilder();
    if (p == null) {
      s.append("the UML process was not started");
    } else if (p.isAlive()) {
      s.append("UML process ").append(p.pid()).append(" is running but its guest agent stopped answering");
    } else {
      s.append("UML process ").append(p.pid()).append(" exited with status ").append(p.exitValue());
    }
    try {
      String log = Files.readString(console, StandardCharsets.UTF_8).strip();
      if (!log.isEmpty()) {
        s.append("; console: ").append(log.length() > 400 ? "..." + log.substring(log.length() - 400) : log);
      }
    } catch (IOException e) {
      // no console log yet
    }
    return s.toString();
  }

  /**
   * Kills the process group of the UML process (if started), waits until none of its processes is left, closes the
   * agent (if opened) and deletes the run directory; the first failure is thrown after all steps ran.
   */
  void destroy() throws IOException {
    IOException failure = null;
    Process p = process;
    if (p != null) {
      long pid = p.pid();
      ProcessGroups.kill(pid);
      p.destroyForcibly();
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        List<Long> left = ProcessGroups.killAndWait(pid, Duration.ofSeconds(5));
        if (!left.isEmpty()) {
          failure = new IOException("UML process group " + pid + " still has processes " + left + " 5 s after SIGKILL");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    GuestAgent a = agent;
    if (a != null) {
      try {
        a.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    try {
      FileTrees.deleteTree(runDir);
    } catch (IOException e) {
      failure = Failures.add(failure, e);
    }
    if (failure != null) {
      throw failure;
    }
  }
}
