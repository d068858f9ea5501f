package io.lcowgd.svm.uml;

import io.lcowgd.config.DriverConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The guest a UML service VM boots: the UML kernel binary and the initramfs under {@code lcow.kirdpath} (file names
 * {@code lcow.kernel} and {@code lcow.initrd}) plus the extra kernel arguments of {@code lcow.bootparameters}.
 *
 * @param kernel the UML kernel executable (symlinks resolved, so the process shows up as {@code linux.uml})
 * @param initrd the initramfs built by {@code scripts/build-uvm}
 * @param bootParameters extra kernel arguments, appended last
 */
public record UvmImage(Path kernel, Path initrd, List<String> bootParameters) {
  /** Where {@code scripts/build-uvm} writes by default, and the default {@code lcow.kirdpath} of {@code lcow.svm=uml}. */
  public static final Path DEFAULT_KIRDPATH = Path.of("/usr/local/lib/lcow/uvm");

  public UvmImage {
    bootParameters = List.copyOf(bootParameters);
  }

  /** The guest named by {@code config}; fails naming the missing file and how to build it. */
  public static UvmImage from(DriverConfig config) throws IOException {
    Path dir = config.kirdPath().orElse(DEFAULT_KIRDPATH);
    return of(dir.resolve(config.kernel()), dir.resolve(config.initrd()), config.bootParameters());
  }

  /** The guest of kernel file {@code kernel}, initramfs {@code initrd} and the arguments in {@code bootParameters}. */
  public static UvmImage of(Path kernel, Path initrd, String bootParameters) throws IOException {
    if (!Files.isExecutable(kernel)) {
      throw new IOException("UML kernel " + kernel + " is missing or not executable (apt-get install user-mode-linux;"
          + " scripts/build-uvm " + kernel.getParent() + ")");
    }
    if (!Files.isRegularFile(initrd)) {
      throw new IOException("service VM initrd " + initrd + " is missing (scripts/build-uvm " + initrd.getParent() + ")");
    }
    String b = bootParameters.strip();
    return new UvmImage(kernel.toRealPath(), initrd.toRealPath(), b.isEmpty() ? List.of() : Arrays.asList(b.split("\\s+")));
  }
}
