package io.lcowgd.lcow;

import static io.lcowgd.testing.TarFixtures.gnuTarOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.convert.GuestListing;
import io.lcowgd.convert.LayerChanges;
import io.lcowgd.convert.ListingView;
import io.lcowgd.disk.PayloadRange;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.testing.HostTools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LayerChanges} reading the guest lister's listings ({@code scripts/guest/lcow-changes}, run here on host loop
 * mounts with the host's GNU tools) as {@link ListingView}s gives exactly what it gives reading the same layers' ext4
 * images (the driver's host path, {@link LayerDiffs}), Changes and DiffSize, on random layer chains (image layer,
 * {@code -init} sandbox, sandbox) written through the host driver's real overlay mounts.
 */
class ImageAndListingChangesTest {
  private static final String LISTER = "scripts/guest/lcow-changes";
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void listingViewsGiveTheImageViewsChangesAndDiffSize(long seed) throws Exception {
    assumeTrue(HostTools.isRoot(), "needs root for loop and overlay mounts");
    Random r = new Random(seed);
    try (LcowDriver d = LcowDriver.open(tmp.resolve("state"), DriverConfig.DEFAULTS)) {
      d.init(tmp.resolve("home").toString(), null, null, null);
      Path src = Files.createDirectories(tmp.resolve("src"));
      randomTree(src, r, 3);
      d.create("L1", "", "", null);
      d.applyDiff("L1", "", new ByteArrayInputStream(gnuTarOf(src, ".")));
      String parent = "L1";
      for (String id : List.of("c-init", "c")) {
        d.createReadWrite(id, parent, "", null);
        Path m = Path.of(d.get(id, ""));
        for (int i = 0; i < 4 + r.nextInt(30); i++) {
          randomOp(m, r);
        }
        d.put(id);
        parent = id;
      }
      for (String id : List.of("c-init", "c")) {
        List<Change> host = LayerDiffs.changes(d.current(), id, null);
        List<ListingView> views = ListingView.chain(listings(d, id));
        List<ListingView> top = views.subList(0, 1);
        List<ListingView> parents = views.subList(1, views.size());
        assertEquals(host, LayerChanges.changes(top, parents), "seed " + seed + " " + id);
        assertEquals(LayerDiffs.diffSize(d.current(), id, null), LayerChanges.diffSize(top, parents),
            "seed " + seed + " " + id);
      }
    }
  }

  /** The sandbox's tree listing and one probe per non-empty parent, made by the lister on host loop mounts. */
  private List<GuestListing> listings(LcowDriver d, String id) throws IOException {
    Layer top = d.current().store().layer(id);
    List<GuestListing> out = new ArrayList<>();
    Path topMp = mount(top);
    try {
      out.addAll(run("tree", topMp.toString()));
      for (String pid : top.parents()) {
        Layer p = d.current().store().layer(pid);
        if (p.kind() == LayerKind.EMPTY) {
          continue;
        }
        Path mp = mount(p);
        try {
          out.addAll(run("probe", topMp.toString(), mp.toString(), p.kind() == LayerKind.IMAGE ? "layer" : "sandbox"));
        } finally {
          HostTools.check("umount", "-d", mp.toString());
        }
      }
    } finally {
      HostTools.check("umount", "-d", topMp.toString());
    }
    return out;
  }

  private Path mount(Layer l) throws IOException {
    PayloadRange r = ImagePayload.of(l);
    Path mp = Files.createTempDirectory(tmp, "mp");
    HostTools.check("mount", "-t", "ext4", "-o", "ro,noload,loop,offset=" + r.offset() + ",sizelimit=" + r.length(),
        l.image().toString(), mp.toString());
    return mp;
  }

  private static List<GuestListing> run(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("busybox", "sh", LISTER));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("LCOW_GNU", "/usr/bin");
    Process p = pb.start();
    GuestListing.Parser parser = GuestListing.parser();
    java.util.concurrent.CompletableFuture<byte[]> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return p.getErrorStream().readAllBytes();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    p.getInputStream().transferTo(parser);
    try {
      assertEquals(0, p.waitFor(), new String(err.join(), StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      throw new IOException(e);
    }
    return parser.finish();
  }

  private static final String[] NAMES = {"a", "b", "etc", "usr", "x y", "caf\u00e9", "n\nl", "b\\s", "dir", "f1", "f2",
      "-dash", "lost+found", ".wh", "upper", "z".repeat(120)};

  private static void randomTree(Path root, Random r, int depth) throws IOException {
    for (int i = 0; i < 2 + r.nextInt(5); i++) {
      Path p = root.resolve(NAMES[r.nextInt(NAMES.length)]);
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      int k = r.nextInt(10);
      if (k < 4 && depth > 0) {
        Files.createDirectory(p);
        randomTree(p, r, depth - 1);
        Files.setLastModifiedTime(p, FileTime.fromMillis(1_600_000_000_000L + r.nextInt(3) * 1000L));
      } else if (k < 8) {
        Files.write(p, new byte[r.nextInt(3000)]);
      } else {
        Files.createSymbolicLink(p, Path.of(NAMES[r.nextInt(NAMES.length)]));
      }
    }
  }

  /** One random change through the union mount {@code m}. */
  private static void randomOp(Path m, Random r) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(m)) {
      all = s.sorted(Comparator.comparing(Path::toString)).toList();
    }
    Path any = all.get(r.nextInt(all.size()));
    Path dir = Files.isDirectory(any, LinkOption.NOFOLLOW_LINKS) ? any : any.getParent();
    Path fresh = dir.resolve(NAMES[r.nextInt(NAMES.length)]);
    boolean freshFree = !Files.exists(fresh, LinkOption.NOFOLLOW_LINKS);
    boolean isFile = Files.isRegularFile(any, LinkOption.NOFOLLOW_LINKS);
    boolean isDir = Files.isDirectory(any, LinkOption.NOFOLLOW_LINKS) && !any.equals(m);
    switch (r.nextInt(11)) {
      case 0 -> {
        if (freshFree) {
          Files.write(fresh, new byte[r.nextInt(5000)]);
        }
      }
      case 1 -> {
        if (isFile) {
          Files.write(any, new byte[r.nextInt(5000)]);
        }
      }
      case 2 -> {
        if (!any.equals(m)) {
          HostTools.check("rm", "-rf", any.toString());
        }
      }
      case 3 -> {
        if (isDir) {
          HostTools.check("rm", "-rf", any.toString());
          Files.createDirectory(any); // opaque
          if (r.nextBoolean()) {
            Files.writeString(any.resolve("again"), "again");
          }
        }
      }
      case 4 -> HostTools.check("chmod", Integer.toOctalString(0700 + r.nextInt(0100)), dir.toString());
      case 5 -> Files.setLastModifiedTime(dir, FileTime.fromMillis(1_650_000_000_000L + r.nextInt(1000)));
      case 6 -> {
        if (freshFree) {
          Files.createSymbolicLink(fresh, Path.of(NAMES[r.nextInt(NAMES.length)]));
        } else if (Files.isSymbolicLink(fresh)) {
          Path target = Files.readSymbolicLink(fresh);
          Files.delete(fresh);
          Files.createSymbolicLink(fresh, r.nextBoolean() ? target : Path.of("other"));
        }
      }
      case 7 -> {
        if (isFile && freshFree) {
          Files.createLink(fresh, any);
        }
      }
      case 8 -> {
        if (freshFree) {
          Files.createDirectories(fresh.resolve("sub/deeper"));
          Files.writeString(fresh.resolve("sub/deeper/f"), "f");
        }
      }
      case 9 -> {
        if (freshFree) {
          HostTools.check("mknod", fresh.toString(), "c", "1", Integer.toString(r.nextInt(9)));
        }
      }
      default -> {
        if (!any.equals(m)) {
          HostTools.check("chown", "-h", r.nextInt(3) + ":" + r.nextInt(3), any.toString());
        }
      }
    }
  }
}
