package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

/** The guest-tar rewrite on hand-made inputs shaped like busybox's output (names with {@code ./}, links). */
class OverlayTarRewriterTest {
  @Test
  void convertsWhiteoutsTheirHardLinksAndOpaqueDirsAndDropsAnEmptyRootLostFound() throws IOException {
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(in, "ISO-8859-1")) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
      dir(t, "./");
      dir(t, "./lost+found/");
      dir(t, "./d/");
      TarArchiveEntry w = new TarArchiveEntry("./d/gone", TarConstants.LF_CHR);
      w.setMode(0);
      w.setUserId(5);
      t.putArchiveEntry(w);
      t.closeArchiveEntry();
      TarArchiveEntry l = new TarArchiveEntry("./also", TarConstants.LF_LINK);
      l.setLinkName("./d/gone");
      l.setUserId(5);
      t.putArchiveEntry(l);
      t.closeArchiveEntry();
      byte[] data = "hi".getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry f = new TarArchiveEntry("./d/" + "x".repeat(150));
      f.setSize(data.length);
      f.setMode(0100640);
      t.putArchiveEntry(f);
      t.write(data);
      t.closeArchiveEntry();
      TarArchiveEntry h = new TarArchiveEntry("./h", TarConstants.LF_LINK);
      h.setLinkName("./d/" + "x".repeat(150));
      t.putArchiveEntry(h);
      t.closeArchiveEntry();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = OverlayTarRewriter.rewrite(new ByteArrayInputStream(in.toByteArray()), Set.of("d"),
        OverlayTarRewriter.RootLostFound.DROP_IF_EMPTY, out);
    assertEquals(2, n);
    List<String> got = new ArrayList<>();
    try (TarArchiveInputStream r = new TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
      TarArchiveEntry e;
      while ((e = r.getNextEntry()) != null) {
        got.add(e.getName() + " " + Integer.toOctalString(e.getMode()) + " " + e.getLongUserId() + " "
            + (e.isLink() ? "->" + e.getLinkName() : new String(r.readAllBytes(), StandardCharsets.UTF_8)));
      }
    }
    String x = "d/" + "x".repeat(150);
    assertEquals(List.of("d/ 40755 0 ", "d/.wh..wh..opq 100755 0 ", "d/.wh.gone 100600 5 ", ".wh.also 100600 5 ",
        x + " 100640 0 hi", "h 100644 0 ->" + x), got);
  }

  private static void dir(TarArchiveOutputStream t, String name) throws IOException {
    TarArchiveEntry d = new TarArchiveEntry(name);
    d.setMode(040755);
    t.putArchiveEntry(d);
    t.closeArchiveEntry();
  }
}
