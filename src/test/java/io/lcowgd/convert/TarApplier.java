package io.lcowgd.convert;

import io.lcowgd.io.FileTrees;
import io.lcowgd.testing.DeviceNodes;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.Xattrs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Applies a Docker layer tar onto a directory the way moby's {@code UnpackLayer} does (whiteouts delete, opaque markers
 * empty the directory, entries replace what is there), as an independent oracle for diff tars.
 */
final class TarApplier {
  private TarApplier() {}

  static void apply(InputStream tarStream, Path root) throws IOException {
    Map<Path, FileTime> dirTimes = new LinkedHashMap<>();
    TarArchiveInputStream tar = new TarArchiveInputStream(tarStream);
    TarArchiveEntry e;
    while ((e = tar.getNextEntry()) != null) {
      String name = e.getName();
      if (name.endsWith("/")) {
        name = name.substring(0, name.length() - 1);
      }
      Path p = root.resolve(name);
      String base = p.getFileName().toString();
      if (base.equals(".wh..wh..opq")) {
        try (var s = Files.list(p.getParent())) {
          for (Path c : (Iterable<Path>) s::iterator) {
            FileTrees.deleteTree(c);
          }
        }
        continue;
      }
      if (base.startsWith(".wh.")) {
        FileTrees.deleteTree(p.resolveSibling(base.substring(4)));
        continue;
      }
      if (e.isDirectory()) {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          FileTrees.deleteTree(p);
        }
        Files.createDirectories(p);
      } else {
        FileTrees.deleteTree(p);
        if (e.isSymbolicLink()) {
          Files.createSymbolicLink(p, Path.of(e.getLinkName()));
        } else if (e.isLink()) {
          Files.createLink(p, root.resolve(e.getLinkName()));
          continue;
        } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
          int type = e.isCharacterDevice() ? 0020000 : e.isBlockDevice() ? 0060000 : 0010000;
          DeviceNodes.mknod(p, type | (e.getMode() & 07777), e.getDevMajor(), e.getDevMinor());
        } else {
          Files.copy(tar, p);
        }
      }
      HostTools.check("chown", "-h", e.getLongUserId() + ":" + e.getLongGroupId(), p.toString());
      if (!e.isSymbolicLink()) {
        HostTools.check("chmod", Integer.toOctalString(e.getMode() & 07777), p.toString());
      }
      for (Map.Entry<String, String> x : e.getExtraPaxHeaders().entrySet()) {
        if (x.getKey().startsWith("SCHILY.xattr.")) {
          Xattrs.set(p, x.getKey().substring(13), x.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      FileTime t = e.getLastModifiedTime();
      if (e.isDirectory()) {
        dirTimes.put(p, t);
      } else {
        Files.getFileAttributeView(p, java.nio.file.attribute.BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setTimes(t, null, null);
      }
    }
    for (Map.Entry<Path, FileTime> d : dirTimes.entrySet()) {
      Files.setLastModifiedTime(d.getKey(), d.getValue());
    }
  }
}
