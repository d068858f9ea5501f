package io.lcowgd.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
  @TempDir Path tmp;

  @Test
  void deletesTheTreeButNotWhatSymlinksPointTo() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("keep"), "keep");
    Path tree = Files.createDirectories(tmp.resolve("tree/a/b"));
    Files.writeString(tree.resolve("f"), "x");
    Files.createDirectories(tmp.resolve("tree/empty"));
    Files.createSymbolicLink(tmp.resolve("tree/a/link-dir"), outside);
    Files.createSymbolicLink(tmp.resolve("tree/dangling"), Path.of("/nonexistent/x"));

    FileTrees.deleteTree(tmp.resolve("tree"));

    assertFalse(Files.exists(tmp.resolve("tree"), LinkOption.NOFOLLOW_LINKS));
    assertEquals("keep", Files.readString(outside.resolve("keep")));
  }

  @Test
  void deletesASingleFileOrASymlinkAndAcceptsAbsence() throws IOException {
    Path f = Files.writeString(tmp.resolve("f"), "x");
    FileTrees.deleteTree(f);
    assertFalse(Files.exists(f));
    Path target = Files.createDirectory(tmp.resolve("target"));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
    FileTrees.deleteTree(link);
    assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
    assertTrue(Files.isDirectory(target));
    FileTrees.deleteTree(tmp.resolve("absent"));
  }
}
