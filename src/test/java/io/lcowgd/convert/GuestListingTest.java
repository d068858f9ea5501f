package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The guest listing wire format: well-formed streams parse to their entries, malformed ones are refused. */
class GuestListingTest {
  @Test
  void malformedListingsAreRefused() throws Exception {
    String head = f("LCOWLS1", "upper");
    String ok = head + f("S", ".", "41ed", "0", "0", "4096", "1.000000000", "2", "2", "0", "0", ".");
    String end = f("E", "");
    assertEquals(1, parse(ok + end).size());
    assertEquals(2, parseAll(ok + end + ok + end).size());
    for (String bad : List.of("", head, f("XCOWLS1", "upper") + end, f("LCOWLS1", "lower") + end, ok, ok + f("E"),
        head + end, ok + end + head, ok + f("E", "# file: ..\n"), ok + f("E", "# file: x\\9\n"),
        ok + f("E", "garbage\n"), ok + f("T") + end,
        ok + f("S", "./../x", "81a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./../x") + end,
        ok + f("S", "./x", "81a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./y") + end,
        ok + f("S", "x", "81a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "x") + end,
        ok + f("S", "./x//y", "81a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./x//y") + end,
        ok + f("S", "./l", "a1ff", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./l") + end,
        ok + f("S", "./x", "f1a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./x") + end,
        ok + f("S", "./x", "81a4", "0", "0", "1", "1.0", "1", "3", "0", "0", "./x") + end,
        ok + f("S", "./x", "81a4", "-1", "0", "1", "1.000000000", "1", "3", "0", "0", "./x") + end,
        ok + f("S", "./x", "81a4", "4294967296", "0", "1", "1.000000000", "1", "3", "0", "0", "./x") + end,
        ok + f("S", ".", "41ed", "0", "0", "1", "1.000000000", "1", "3", "0", "0", ".") + end,
        ok + f("S", "./x", "81a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./x")
            + f("S", "./x", "81a4", "0", "0", "1", "1.000000000", "1", "3", "0", "0", "./x") + end)) {
      IOException e = assertThrows(IOException.class, () -> parseAll(bad), bad.replace('\0', '|'));
      assertTrue(e.getMessage().startsWith("guest listing"), e.getMessage());
    }
    GuestListing l = parse(ok + f("S", "./l", "a1ff", "0", "0", "5", "-1.500000000", "1", "3", "0", "0", "./l -> t -> u")
        + f("S", "./w", "2180", "0", "0", "0", "1.000000000", "1", "4", "0", "0", "./w")
        + f("S", "./d", "2180", "0", "0", "0", "1.000000000", "1", "5", "1", "3", "./d")
        + f("E", "# file: .\ntrusted.overlay.opaque=0x79\n\n# file: a\\012\\134b\ntrusted.overlay.opaque=0x79\n"
            + "# file: l\ntrusted.overlay.opaque=0x7979\n"));
    assertEquals("t -> u", new String(l.get("l").target(), StandardCharsets.ISO_8859_1));
    assertEquals(java.time.Instant.ofEpochSecond(-2, 500_000_000), l.get("l").mtime());
    assertTrue(l.get("w").isWhiteout() && !l.get("d").isWhiteout(), "0/0 is a whiteout, 1/3 is not");
    assertTrue(l.isOpaque("") && l.isOpaque("a\n\\b") && !l.isOpaque("l"));
  }

  /** Fields, each NUL-terminated. */
  private static String f(String... fields) {
    StringBuilder b = new StringBuilder();
    for (String x : fields) {
      b.append(x).append('\0');
    }
    return b.toString();
  }

  private static GuestListing parse(String wire) throws IOException {
    List<GuestListing> all = parseAll(wire);
    assertEquals(1, all.size());
    return all.get(0);
  }

  private static List<GuestListing> parseAll(String wire) throws IOException {
    GuestListing.Parser p = GuestListing.parser();
    byte[] b = wire.getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < b.length; i += 7) { // in pieces, as the agent delivers
      p.write(b, i, Math.min(7, b.length - i));
    }
    return p.finish();
  }
}
