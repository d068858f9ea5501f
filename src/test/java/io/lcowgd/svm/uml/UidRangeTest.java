package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class UidRangeTest {
  @Test
  void defaultLiesBetweenSystemdsContainerRangeAndTwoToThe31() {
    assertEquals(1879048192, UidRange.DEFAULT.first());
    assertEquals(1879113727, UidRange.DEFAULT.last());
    assertEquals("1879048192-1879113727", UidRange.DEFAULT.toString());
    assertEquals(UidRange.DEFAULT, UidRange.parse(UidRange.DEFAULT.toString()));
  }

  @Test
  void parsesRandomRangesBackToThemselves() {
    Random r = new Random(7);
    for (int i = 0; i < 200; i++) {
      int first = 1000 + r.nextInt(Integer.MAX_VALUE - 2000);
      int count = 1 + r.nextInt(Math.min(1 << 20, Integer.MAX_VALUE - first));
      UidRange u = new UidRange(first, count);
      assertEquals(u, UidRange.parse(" " + u + " "));
      assertEquals(first + count - 1, u.last());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "10-5", "a-b", "100-200", "2000-2147483648", "-1-5", "3000-4000-5000"})
  void rejectsMalformedOrUnsafeRanges(String s) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UidRange.parse(s));
    assertTrue(e.getMessage().contains("guest uid range"), e.getMessage());
  }
}
