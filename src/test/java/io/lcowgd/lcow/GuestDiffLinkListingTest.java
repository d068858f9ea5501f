package io.lcowgd.lcow;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hard-link listing at the head of the guest's export stream ({@code find -printf '%i %P\0'}, then {@code \0}). */
class GuestDiffLinkListingTest {
  @Test
  void readsRecordsWithRawNameBytesAndStopsRightAfterTheEmptyRecord() throws IOException {
    byte[] in = "12 a/b c\u000012 new\nline\u00007 caf\u00e9\u0000\u0000TAR".getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayInputStream s = new ByteArrayInputStream(in);
    assertEquals(Map.of("a/b c", 12L, "new\nline", 12L, "caf\u00e9", 7L), GuestDiff.readLinks(s));
    assertEquals("TAR", new String(s.readAllBytes(), StandardCharsets.US_ASCII));
    assertEquals(Map.of(), GuestDiff.readLinks(new ByteArrayInputStream(new byte[] {0, 'x'})));
  }

  @Test
  void boundsTheListingsBytesAndRecords() throws IOException {
    String four = "1 a\u00001 b\u00002 c\u00002 d\u0000\u0000";
    assertEquals(4, GuestDiff.readLinks(stream(four), 100, 4).size());
    IOException records = assertThrows(IOException.class, () -> GuestDiff.readLinks(stream(four), 100, 3));
    assertTrue(records.getMessage().contains("exceeds 3 records"), records.getMessage());
    IOException bytes = assertThrows(IOException.class, () -> GuestDiff.readLinks(stream(four), 16, 10));
    assertTrue(bytes.getMessage().contains("exceeds 16 bytes"), bytes.getMessage());
    assertEquals(1 << 20, GuestDiff.MAX_LINK_RECORDS, "the default record bound (docs/uml.md states it)");
  }

  @Test
  void aMalformedRecordIsShownCutTo200Chars() {
    String huge = "12x" + "y".repeat(1 << 20) + "\u0000\u0000";
    IOException e = assertThrows(IOException.class, () -> GuestDiff.readLinks(stream(huge)));
    assertTrue(e.getMessage().length() < 400 && e.getMessage().contains("(first 200 of 1048579 bytes)"),
        () -> e.getMessage().substring(0, Math.min(300, e.getMessage().length())));
    for (String bad : new String[] {"1234567890123456789 a\u0000\u0000", "-1 a\u0000\u0000", "1a a\u0000\u0000"}) {
      assertThrows(IOException.class, () -> GuestDiff.readLinks(stream(bad)), bad);
    }
    assertDoesNotThrow(() -> GuestDiff.readLinks(stream("123456789012345678 a\u0000\u0000")), "18 digits");
  }

  private static ByteArrayInputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void refusesMalformedOrTruncatedListings() {
    for (String bad : new String[] {"x a\u0000\u0000", "12\u0000\u0000", "12 \u0000\u0000", " a\u0000\u0000",
        "12 a\u0000"}) {
      IOException e = assertThrows(IOException.class,
          () -> GuestDiff.readLinks(new ByteArrayInputStream(bad.getBytes(StandardCharsets.ISO_8859_1))), bad);
      assertTrue(e.getMessage().contains("listing"), e.getMessage());
    }
  }
}
