package io.lcowgd.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for option values with Go's rules (strconv.ParseBool, Atoi) and docker's size units; errors name the key. */
final class OptionValues {
  private OptionValues() {}

  static final long GIB = 1L << 30;

  /** One {@code key=value} option split at the first {@code =}; the key is lower-cased. */
  record KeyValue(String key, String value) {
    static KeyValue split(String option) {
      int eq = option == null ? -1 : option.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("option '" + option + "': expected KEY=VALUE");
      }
      return new KeyValue(option.substring(0, eq).toLowerCase(Locale.ROOT), option.substring(eq + 1));
    }
  }

  /** Go's {@code strconv.ParseBool}: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False. */
  static boolean parseBool(String key, String value) {
    switch (value) {
      case "1", "t", "T", "TRUE", "true", "True":
        return true;
      case "0", "f", "F", "FALSE", "false", "False":
        return false;
      default:
        throw new ConfigException(key + "=" + value + ": expected a boolean (true or false)");
    }
  }

  /** A decimal integer within {@code [min, max]}. */
  static int parseInt(String key, String value, int min, int max, String unit) {
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key + "=" + value + ": expected an integer number of " + unit, e);
    }
    if (n < min || n > max) {
      throw new ConfigException(
          key + "=" + value + ": must be between " + min + " and " + max + " " + unit + " (inclusive)");
    }
    return n;
  }

  private static final Pattern SIZE =
      Pattern.compile("^(\\d+(?:\\.\\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$");

  /**
   * A byte size as docker's {@code units.RAMInBytes} reads it: a number with an optional binary unit ({@code 30G},
   * {@code 30GB}, {@code 30GiB}, {@code 512m}, {@code 1073741824}); fractions are allowed and truncated to bytes.
   */
  static long parseBytes(String key, String value) {
    Matcher m = SIZE.matcher(value);
    if (!m.matches()) {
      throw new ConfigException(key + "=" + value + ": expected a size such as 30G, 30GB or 32212254720");
    }
    int shift =
        m.group(2) == null ? 0 : 10 * ("kmgtp".indexOf(m.group(2).toLowerCase(Locale.ROOT).charAt(0)) + 1);
    BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(2).pow(shift));
    if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new ConfigException(key + "=" + value + ": size too large");
    }
    return bytes.setScale(0, RoundingMode.DOWN).longValueExact();
  }
}
