package io.lcowgd.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.io.FileTrees;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.svm.uml.UvmImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The set-up of a test class that boots User-mode Linux guests: before the class, skips it unless user-mode-linux
 * is installed (and, for {@link Needs#ROOT}, unless running as root) and provides the guest image, built with
 * {@code scripts/build-uvm} once per test run (shared by every class, deleted when the run ends); after each test
 * (after the class's own {@code @AfterEach} methods, which stop their guests), fails it if a {@code linux.uml} guest
 * of this JVM (umid prefix {@link UmlBackend#umidPrefix()}) is still running.
 *
 * <pre>{@code @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.ROOT);}</pre>
 */
public final class UmlGuestExtension implements BeforeAllCallback, AfterEachCallback {
  /** What a test class needs besides user-mode-linux. */
  public enum Needs {
    /** Nothing else. */
    UML_ONLY,
    /** Root, for loop devices and mounts. */
    ROOT
  }

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(UmlGuestExtension.class);

  private final Needs needs;
  private volatile Path dir;
  private volatile UvmImage image;

  /** For a test class that needs {@code needs}. */
  public UmlGuestExtension(Needs needs) {
    this.needs = needs;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    UmlGuests.assumeInstalled();
    if (needs == Needs.ROOT) {
      assumeTrue(HostTools.isRoot(), "needs root for loop devices and mounts");
    }
    dir = context.getRoot().getStore(NAMESPACE).computeIfAbsent(BuiltGuest.class, k -> BuiltGuest.build(),
        BuiltGuest.class).dir();
    image = UvmImage.of(dir.resolve("kernel"), dir.resolve("initrd.img"), "");
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    UmlGuests.assertNoneRunning(UmlBackend.umidPrefix());
  }

  /** The built guest directory ({@code kernel}, {@code initrd.img}): an {@code lcow.kirdpath}. */
  public Path dir() {
    if (dir == null) {
      throw new IllegalStateException("the UML guest is built before the test class runs (register the extension on"
          + " a static field)");
    }
    return dir;
  }

  /**
   * The driver configuration of {@code lcow.svm=uml} with this guest ({@code lcow.kirdpath}) and
   * {@code lcow.globalmode=globalMode} ({@code "true"} or {@code "false"}).
   */
  public DriverConfig driverConfig(String globalMode) {
    return DriverConfig.DEFAULTS.withOptions(List.of("lcow.svm=uml", "lcow.kirdpath=" + dir(),
        "lcow.globalmode=" + globalMode));
  }

  /** The built guest as a {@link UvmImage} without extra boot parameters. */
  public UvmImage image() {
    dir();
    return image;
  }

  /** A guest built into {@code <top>/uvm}; closing it (at the end of the test run) deletes {@code top}. */
  private record BuiltGuest(Path top, Path dir) implements AutoCloseable {
    static BuiltGuest build() {
      Path top = null;
      try {
        top = Files.createTempDirectory("lcow-uml-guest");
        return new BuiltGuest(top, UmlGuests.build(top.resolve("uvm")));
      } catch (IOException e) {
        throw new UncheckedIOException("build the UML guest with scripts/build-uvm", e);
      } finally {
        if (top != null && !Files.exists(top.resolve("uvm/initrd.img"))) {
          try {
            FileTrees.deleteTree(top);
          } catch (IOException ignored) {
            // a failed build already fails the class; its half-built directory is only a leftover in /tmp
          }
        }
      }
    }

    @Override
    public void close() throws IOException {
      FileTrees.deleteTree(top);
    }
  }
}
