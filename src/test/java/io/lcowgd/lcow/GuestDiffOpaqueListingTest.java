package io.lcowgd.lcow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Parsing of the guest's {@code getfattr -d -e text} listing into opaque directory names (raw bytes). */
class GuestDiffOpaqueListingTest {
  @Test
  void keepsOnlyOpaqueYAndDecodesOctalEscapes() throws IOException {
    assertEquals("a\u00e9\n", GuestDiff.fromHex(" 61 e9\n 0a\n"));
    String listing = """
        # file: .
        trusted.overlay.opaque="y"

        # file: ./a
        trusted.overlay.opaque="y"

        # file: b/cÃ©\\012x
        trusted.overlay.opaque="y"

        # file: ./back\\134slash
        trusted.overlay.opaque="y"

        # file: ./not
        trusted.overlay.opaque="x"

        """;
    assertEquals(Set.of("a", "b/c\u00c3\u00a9\nx", "back\\slash"), GuestDiff.parseOpaque(listing));
  }
}
