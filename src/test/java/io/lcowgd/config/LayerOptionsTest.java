package io.lcowgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LayerOptionsTest {
  static final DriverConfig D30 = DriverConfig.parse(List.of("lcow.sandboxsize=30"));

  private static ConfigException rejects(Map<String, String> opts) {
    return assertThrows(ConfigException.class, () -> LayerOptions.parse(opts, DriverConfig.DEFAULTS));
  }

  @Test
  void noOptionsMeansTheDaemonWideSize() {
    assertEquals(new LayerOptions(20), LayerOptions.parse(null, DriverConfig.DEFAULTS));
    assertEquals(new LayerOptions(30), LayerOptions.parse(Map.of(), D30));
    assertEquals(new LayerOptions(30), LayerOptions.defaults(D30));
  }

  @Test
  void lcowSandboxSizeOverridesTheDaemonWideSize() {
    assertEquals(new LayerOptions(50), LayerOptions.parse(Map.of("lcow.sandboxsize", "50"), D30));
    assertEquals(new LayerOptions(25), LayerOptions.parse(Map.of("LCOW.SandboxSize", "25"), D30));
  }

  @Test
  void lcowSandboxSizeBelow20IsAnError() {
    ConfigException e = rejects(Map.of("lcow.sandboxsize", "10"));
    assertTrue(e.getMessage().contains("lcow.sandboxsize=10: must be between 20"), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"20G,20", "20GB,20", "20GiB,20", "20g,20", "30G,30", "20.5G,21", "21474836480,20", "21474836481,21",
      "20480M,20", "20480MB,20", "1T,1024", "0.5T,512", "20971520k,20", "20 GB,20"})
  void dockerSizeIsReadInBinaryUnitsAndRoundedUpToWholeGib(String size, int gb) {
    assertEquals(new LayerOptions(gb), LayerOptions.parse(Map.of("size", size), DriverConfig.DEFAULTS));
  }

  @ParameterizedTest
  @CsvSource({"1G", "50M", "19.9G", "21474836479", "0"})
  void dockerSizeBelowTheMinimumIsAnErrorNotASilentlyBiggerDisk(String size) {
    ConfigException e = rejects(Map.of("size", size));
    assertTrue(e.getMessage().startsWith("size=" + size + ": a sandbox is at least 20 GB"), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"lots", "20X", "G", "-20G", "1e3"})
  void malformedSizesAreErrors(String size) {
    ConfigException e = rejects(Map.of("size", size));
    assertTrue(e.getMessage().contains("size=" + size + ": expected a size"), e.getMessage());
  }

  @Test
  void hugeSizesAreErrors() {
    assertTrue(rejects(Map.of("size", "100P")).getMessage().contains("larger than the maximum"));
    assertTrue(rejects(Map.of("size", "99999999999999999999P")).getMessage().contains("size=99999999999999999999P"));
  }

  @Test
  void bothKeysMustAgree() {
    assertEquals(new LayerOptions(30),
        LayerOptions.parse(Map.of("size", "30G", "lcow.sandboxsize", "30"), DriverConfig.DEFAULTS));
    ConfigException e = rejects(Map.of("size", "40G", "lcow.sandboxsize", "30"));
    assertTrue(e.getMessage().contains("disagree"), e.getMessage());
  }

  @Test
  void otherKeysAreErrorsNamingThem() {
    ConfigException e = rejects(Map.of("lcow.globalmode", "true"));
    assertTrue(e.getMessage().contains("unknown key 'lcow.globalmode'"), e.getMessage());
    Map<String, String> m = new HashMap<>();
    m.put("dm.basesize", "30G");
    assertTrue(rejects(m).getMessage().contains("'dm.basesize'"));
  }
}
