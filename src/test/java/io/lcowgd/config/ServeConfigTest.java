package io.lcowgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ServeConfigTest {

  private static ServeConfig parse(String... args) {
    return ServeConfig.parse(List.of(args));
  }

  private static String rejects(String... args) {
    return assertThrows(ConfigException.class, () -> parse(args)).getMessage();
  }

  @Test
  void defaults() {
    ServeConfig c = parse();
    assertEquals(Path.of("/var/lib/lcow"), c.root());
    assertEquals(Optional.of(Path.of("/run/docker/plugins/lcow.sock")), c.socket());
    assertEquals(Optional.empty(), c.socketGroup());
    assertEquals(Optional.empty(), c.tcp());
    assertFalse(c.tcpAllowRemote());
    assertEquals(Optional.empty(), c.specDir());
    assertEquals(Optional.empty(), c.specFile());
    assertEquals("lcow", c.name());
    assertEquals(List.of(), c.driverOptions());
    assertEquals(DriverConfig.DEFAULTS, c.driverConfig());
    assertFalse(c.debug());
  }

  @Test
  void everyFlagInBothSpellings() {
    ServeConfig c = parse("--root", "/srv/lcow", "--socket=/run/x/gd.sock", "--socket-group", "docker",
        "--tcp=127.0.0.1:17777", "--tcp-allow-remote", "--write-spec", "--name", "lcow2", "--opt",
        "lcow.sandboxsize=30", "--opt=lcow.timeout=10", "--debug");
    assertEquals(Path.of("/srv/lcow"), c.root());
    assertEquals(Optional.of(Path.of("/run/x/gd.sock")), c.socket());
    assertEquals(Optional.of("docker"), c.socketGroup());
    assertEquals(Optional.of(new HostPort("127.0.0.1", 17777)), c.tcp());
    assertTrue(c.tcpAllowRemote());
    assertEquals(Optional.of(Path.of("/etc/docker/plugins/lcow2.spec")), c.specFile());
    assertEquals("lcow2", c.name());
    assertEquals(List.of("lcow.sandboxsize=30", "lcow.timeout=10"), c.driverOptions());
    assertEquals(30, c.driverConfig().sandboxSizeGb());
    assertTrue(c.debug());
  }

  @Test
  void theNameDecidesTheDefaultSocket() {
    assertEquals(Optional.of(Path.of("/run/docker/plugins/lcow-b.sock")), parse("--name", "lcow-b").socket());
  }

  @Test
  void relativePathsBecomeAbsolute() {
    ServeConfig c = parse("--root", "data", "--socket", "gd.sock");
    assertTrue(c.root().isAbsolute());
    assertEquals(Path.of("").toAbsolutePath().resolve("data"), c.root());
    assertEquals(Path.of("").toAbsolutePath().resolve("gd.sock"), c.socket().orElseThrow());
  }

  @Test
  void specDirImpliesWriteSpecAndNeedsTcp() {
    assertEquals(Optional.of(Path.of("/tmp/sp/lcow.spec")),
        parse("--tcp", "127.0.0.1:0", "--spec-dir", "/tmp/sp").specFile());
    assertTrue(rejects("--write-spec").contains("needs --tcp"));
    assertTrue(rejects("--spec-dir", "/tmp/sp").contains("needs --tcp"));
  }

  @Test
  void noSocketNeedsTcpAndExcludesSocketFlags() {
    assertEquals(Optional.empty(), parse("--no-socket", "--tcp", "localhost:1").socket());
    assertTrue(rejects("--no-socket").contains("nothing to listen on"));
    assertTrue(rejects("--no-socket", "--socket", "/x.sock", "--tcp", "localhost:1").contains("contradict"));
    assertTrue(rejects("--no-socket", "--socket-group", "docker", "--tcp", "localhost:1").contains("no socket"));
  }

  @Test
  void badFlagsNameTheFlagAndValue() {
    assertEquals("unknown argument '--rot'", rejects("--rot", "/x"));
    assertEquals("--root: missing value", rejects("--root"));
    assertEquals("--socket: empty value", rejects("--socket="));
    assertEquals("--debug takes no value (got '--debug=1')", rejects("--debug=1"));
    assertTrue(rejects("--name", "a/b").startsWith("--name a/b:"));
    assertTrue(rejects("--tcp", "17777").contains("expected HOST:PORT"));
    assertTrue(rejects("--tcp", "localhost:http").contains("port is not a number"));
    assertTrue(rejects("--tcp", "localhost:70000").contains("outside 0-65535"));
    assertTrue(rejects("--tcp", "::1:80").contains("brackets"));
    assertTrue(rejects("extra").contains("unknown argument 'extra'"));
  }

  @Test
  void badDriverOptionsAreReportedAsOptErrors() {
    String m = rejects("--opt", "lcow.sandboxsize=10");
    assertTrue(m.startsWith("--opt: lcow.sandboxsize=10: must be between 20"), m);
    assertTrue(rejects("--opt", "size=30G").contains("unsupported key 'size'"));
  }

  @Test
  void socketPathsLongerThanTheKernelLimitAreRejected() {
    String longPath = "/tmp/" + "d".repeat(110) + ".sock";
    assertTrue(rejects("--socket", longPath).contains("longer than the 107"));
  }

  @Test
  void ipv6TcpAddresses() {
    HostPort hp = parse("--tcp", "[::1]:9000").tcp().orElseThrow();
    assertEquals(new HostPort("::1", 9000), hp);
    assertEquals("[::1]:9000", hp.toString());
  }

  @Test
  void optsEnvReadsSpaceSeparatedOptionsAndFlagsWin() {
    Map<String, String> env = Map.of("LCOW_OPTS", "  lcow.sandboxsize=40\tlcow.timeout=7 ");
    ServeConfig c = ServeConfig.parse(List.of("--opts-env", "LCOW_OPTS", "--opt", "lcow.timeout=9"), env::get);
    assertEquals(List.of("lcow.sandboxsize=40", "lcow.timeout=7", "lcow.timeout=9"), c.driverOptions());
    assertEquals(40, c.driverConfig().sandboxSizeGb());
    assertEquals(9, c.driverConfig().timeout().toSeconds());
  }

  @Test
  void optsEnvUnsetOrBlankMeansNoOptions() {
    assertEquals(DriverConfig.DEFAULTS,
        ServeConfig.parse(List.of("--opts-env=LCOW_OPTS"), name -> null).driverConfig());
    assertEquals(List.of(), ServeConfig.parse(List.of("--opts-env", "X"), name -> " ").driverOptions());
  }

  @Test
  void badOptsEnvValuesNameTheVariable() {
    String m = assertThrows(ConfigException.class,
        () -> ServeConfig.parse(List.of("--opts-env", "LCOW_OPTS"), name -> "lcow.sandboxsize=10")).getMessage();
    assertTrue(m.startsWith("--opts-env LCOW_OPTS (LCOW_OPTS='lcow.sandboxsize=10'): lcow.sandboxsize=10: must be"),
        m);
    assertEquals("--opts-env: missing value", rejects("--opts-env"));
  }
}
