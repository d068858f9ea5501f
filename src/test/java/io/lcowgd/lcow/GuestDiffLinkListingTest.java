package io.lcowgd.lcow;

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
  void refusesMalformedOrTruncatedListings() {
    for (String bad : new String[] {"x a\u0000\u0000", "12\u0000\u0000", "12 \u0000\u0000", " a\u0000\u0000",
        "12 a\u0000"}) {
      IOException e = assertThrows(IOException.class,
          () -> GuestDiff.readLinks(new ByteArrayInputStream(bad.getBytes(StandardCharsets.ISO_8859_1))), bad);
      assertTrue(e.getMessage().contains("listing"), e.getMessage());
    }
  }
}
