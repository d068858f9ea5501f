package io.lcowgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class DriverConfigTest {

  private static ConfigException rejects(String... options) {
    return assertThrows(ConfigException.class, () -> DriverConfig.parse(List.of(options)));
  }

  @Test
  void defaultsAreTheOriginalOnes() {
    DriverConfig d = DriverConfig.parse(null);
    assertEquals(DriverConfig.DEFAULTS, d);
    assertEquals(false, d.globalMode());
    assertEquals(20, d.sandboxSizeGb());
    assertEquals(Duration.ofSeconds(300), d.timeout());
    assertEquals(Optional.empty(), d.kirdPath());
    assertEquals("kernel", d.kernel());
    assertEquals("initrd.img", d.initrd());
    assertEquals("", d.bootParameters());
    assertEquals(SvmBackend.HOST, d.svm());
    assertEquals(DriverConfig.DEFAULTS, DriverConfig.parse(List.of()));
  }

  @Test
  void everyKeyIsParsed() {
    DriverConfig d = DriverConfig.parse(List.of("lcow.globalmode=true", "lcow.sandboxsize=40", "lcow.timeout=60",
        "lcow.kirdpath=/opt/lcow/", "lcow.kernel=vmlinux", "lcow.initrd=rootfs.img",
        "lcow.bootparameters=console=ttyS0 quiet", "lcow.svm=uml"));
    assertEquals(new DriverConfig(true, 40, Duration.ofSeconds(60), Optional.of(Path.of("/opt/lcow")), "vmlinux",
        "rootfs.img", "console=ttyS0 quiet", SvmBackend.UML), d);
  }

  @Test
  void keysAreCaseInsensitiveAndValuesKeepTheirCase() {
    DriverConfig d = DriverConfig.parse(List.of("LCOW.GlobalMode=True", "Lcow.Kernel=VMLinux", "lcow.SVM=UML"));
    assertTrue(d.globalMode());
    assertEquals("VMLinux", d.kernel());
    assertEquals(SvmBackend.UML, d.svm());
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "t", "T", "TRUE", "true", "True"})
  void goTrueValues(String v) {
    assertTrue(DriverConfig.parse(List.of("lcow.globalmode=" + v)).globalMode());
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "f", "F", "FALSE", "false", "False"})
  void goFalseValues(String v) {
    assertEquals(false, DriverConfig.parse(List.of("lcow.globalmode=true", "lcow.globalmode=" + v)).globalMode());
  }

  @ParameterizedTest
  @ValueSource(strings = {"yes", "", "tRuE", "2", "on"})
  void otherBooleansAreErrorsNamingKeyAndValue(String v) {
    ConfigException e = rejects("lcow.globalmode=" + v);
    assertTrue(e.getMessage().startsWith("lcow.globalmode=" + v + ": expected a boolean"), e.getMessage());
  }

  @Test
  void sandboxSizeHasAMinimumOf20() {
    assertEquals(20, DriverConfig.parse(List.of("lcow.sandboxsize=20")).sandboxSizeGb());
    assertTrue(rejects("lcow.sandboxsize=19").getMessage().contains("lcow.sandboxsize=19: must be between 20"));
    assertTrue(rejects("lcow.sandboxsize=0").getMessage().contains("lcow.sandboxsize=0"));
    assertTrue(rejects("lcow.sandboxsize=30G").getMessage().contains("lcow.sandboxsize=30G: expected an integer"));
    assertTrue(rejects("lcow.sandboxsize=-40").getMessage().contains("-40"));
    assertTrue(rejects("lcow.sandboxsize=99999999").getMessage().contains("99999999"));
  }

  @Test
  void timeoutZeroMeansTheDefaultAsInOpengcs() {
    assertEquals(Duration.ofSeconds(300), DriverConfig.parse(List.of("lcow.timeout=0")).timeout());
    assertEquals(Duration.ofSeconds(1), DriverConfig.parse(List.of("lcow.timeout=1")).timeout());
    assertTrue(rejects("lcow.timeout=-1").getMessage().contains("lcow.timeout=-1"));
    assertTrue(rejects("lcow.timeout=1.5").getMessage().contains("lcow.timeout=1.5: expected an integer"));
    assertTrue(rejects("lcow.timeout=").getMessage().contains("lcow.timeout="));
  }

  @Test
  void kirdPathMustBeAbsoluteAndEmptyClearsIt() {
    assertTrue(rejects("lcow.kirdpath=relative/dir").getMessage().contains("lcow.kirdpath=relative/dir"));
    assertEquals(Optional.empty(),
        DriverConfig.parse(List.of("lcow.kirdpath=/a", "lcow.kirdpath=")).kirdPath());
  }

  @Test
  void kernelAndInitrdAreFileNames() {
    assertTrue(rejects("lcow.kernel=").getMessage().contains("lcow.kernel=: expected a file name"));
    assertTrue(rejects("lcow.initrd=../x").getMessage().contains("lcow.initrd=../x"));
    assertTrue(rejects("lcow.kernel=/boot/vmlinuz").getMessage().contains("/boot/vmlinuz"));
  }

  @Test
  void svmIsHostOrUml() {
    assertEquals(SvmBackend.HOST, DriverConfig.parse(List.of("lcow.svm=Host")).svm());
    ConfigException e = rejects("lcow.svm=hyperv");
    assertEquals("lcow.svm=hyperv: expected one of host, uml", e.getMessage());
  }

  @Test
  void bootParametersMayContainEqualsSigns() {
    assertEquals("a=b c=d", DriverConfig.parse(List.of("lcow.bootparameters=a=b c=d")).bootParameters());
    assertEquals("", DriverConfig.parse(List.of("lcow.bootparameters=")).bootParameters());
  }

  @Test
  void unknownLcowKeysAreErrorsNamingTheKey() {
    ConfigException e = rejects("lcow.sandboxsise=30");
    assertTrue(e.getMessage().contains("unknown key 'lcow.sandboxsise'"), e.getMessage());
    assertTrue(e.getMessage().contains("lcow.sandboxsize"), "lists the known keys: " + e.getMessage());
  }

  @Test
  void lcowVhdxIsRejectedWithAReason() {
    assertTrue(rejects("lcow.vhdx=/x/uvm.vhdx").getMessage().contains("not supported"));
  }

  @Test
  void keysWithoutTheLcowPrefixAreErrors() {
    ConfigException e = rejects("size=10G");
    assertTrue(e.getMessage().contains("unsupported key 'size'") && e.getMessage().contains("only lcow.*"),
        e.getMessage());
    assertTrue(rejects("overlay2.override_kernel_check=1").getMessage().contains("overlay2.override_kernel_check"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"lcow.globalmode", "=true", "", "noequals"})
  void optionsWithoutKeyEqualsValueAreErrors(String option) {
    ConfigException e = rejects(option);
    assertTrue(e.getMessage().contains("'" + option + "': expected KEY=VALUE"), e.getMessage());
  }

  @Test
  void laterOptionsWinAndWithOptionsLayersOnTop() {
    DriverConfig cli = DriverConfig.parse(List.of("lcow.sandboxsize=30", "lcow.timeout=10"));
    DriverConfig init = cli.withOptions(List.of("lcow.timeout=20", "lcow.timeout=25"));
    assertEquals(30, init.sandboxSizeGb());
    assertEquals(Duration.ofSeconds(25), init.timeout());
    assertEquals(cli, cli.withOptions(null));
  }

  static Stream<Arguments> seeds() {
    return Stream.of(1L, 2L, 3L, 42L, 1234L).map(Arguments::of);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void toOptionsRoundTripsRandomConfigurations(long seed) {
    Random r = new Random(seed);
    for (int i = 0; i < 200; i++) {
      DriverConfig d = new DriverConfig(r.nextBoolean(), 20 + r.nextInt(1000), Duration.ofSeconds(1 + r.nextInt(9999)),
          r.nextBoolean() ? Optional.empty() : Optional.of(Path.of("/k" + r.nextInt(100))), "k" + r.nextInt(9),
          "i" + r.nextInt(9), r.nextBoolean() ? "" : "console=ttyS" + r.nextInt(4),
          SvmBackend.values()[r.nextInt(2)]);
      List<String> opts = new ArrayList<>(d.toOptions());
      assertEquals(d, DriverConfig.parse(opts), "seed " + seed + " #" + i);
    }
  }
}
