package io.lcowgd.layerstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.graphdriver.GraphDriverException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LayerStoreTest {
  @TempDir Path root;

  @Test
  void createWritesTheParentChainNearestFirstAsAbsoluteFolderPaths() throws Exception {
    LayerStore s = LayerStore.open(root);
    s.create("a", null, d -> {});
    s.create("b", "a", d -> {});
    Layer c = s.create("c", "b", d -> Files.writeString(d.resolve(LayerStore.SANDBOX_VHDX), "x"));
    assertEquals(List.of("b", "a"), c.parents());
    assertEquals(LayerKind.SANDBOX, c.kind());
    assertEquals(LayerKind.EMPTY, s.layer("a").kind());
    String json = Files.readString(root.resolve("c/layerchain.json"));
    assertEquals("[\"" + root.resolve("b") + "\",\"" + root.resolve("a") + "\"]", json);
    assertThrows(GraphDriverException.class, () -> s.create("c", null, d -> {}));
    GraphDriverException nf = assertThrows(GraphDriverException.class, () -> s.create("d", "nope", d -> {}));
    assertEquals(GraphDriverException.Category.NOT_FOUND, nf.category());
    assertEquals(List.of("a", "b", "c"), s.ids().stream().sorted().toList());
  }

  @Test
  void aFailedPopulateLeavesNoLayer() throws Exception {
    LayerStore s = LayerStore.open(root);
    assertThrows(IOException.class, () -> s.create("x", null, d -> {
      throw new IOException("disk full");
    }));
    assertFalse(s.exists("x"));
    assertFalse(Files.exists(root.resolve("x")));
    try (var ds = Files.list(root.resolve(".staging"))) {
      assertEquals(0, ds.count());
    }
  }

  @Test
  void addFileAppearsCompleteAndNeverReplaces() throws Exception {
    LayerStore s = LayerStore.open(root);
    s.create("a", null, d -> {});
    Path vhd = s.addFile("a", LayerStore.LAYER_VHD, p -> Files.writeString(p, "image"));
    assertEquals("image", Files.readString(vhd));
    assertEquals(LayerKind.IMAGE, s.layer("a").kind());
    GraphDriverException e = assertThrows(GraphDriverException.class,
        () -> s.addFile("a", LayerStore.LAYER_VHD, p -> Files.writeString(p, "other")));
    assertEquals(GraphDriverException.Category.ALREADY_EXISTS, e.category());
    assertEquals("image", Files.readString(vhd));
    assertThrows(IOException.class, () -> s.addFile("a", "f", p -> {
      Files.writeString(p, "half");
      throw new IOException("tar truncated");
    }));
    assertFalse(Files.exists(root.resolve("a/f")));
  }

  @Test
  void crashDebrisIsInvisibleAndCleanedAtOpen() throws Exception {
    LayerStore s = LayerStore.open(root);
    s.create("keep", null, d -> {});
    // A kill during create: a complete-looking staging dir; during remove: a tombstone; a stale scratch disk.
    Path staged = Files.createDirectories(root.resolve(".staging/half-1234"));
    Files.writeString(staged.resolve("layerchain.json"), "[]");
    Path tomb = Files.createDirectories(root.resolve("gone-removing"));
    Files.writeString(tomb.resolve("layerchain.json"), "[]");
    Files.writeString(root.resolve("scratch/svm.vhdx"), "x");
    assertFalse(s.exists("half"));
    assertFalse(s.exists("half-1234"));
    assertFalse(s.exists("gone-removing"));
    assertEquals(List.of("keep"), s.ids());
    LayerStore again = LayerStore.open(root);
    assertFalse(Files.exists(staged));
    assertFalse(Files.exists(tomb));
    assertFalse(Files.exists(root.resolve("scratch/svm.vhdx")));
    assertTrue(again.exists("keep"));
  }

  @Test
  void removeRenamesThenDeletes() throws Exception {
    LayerStore s = LayerStore.open(root);
    s.create("a", null, d -> Files.writeString(d.resolve("sandbox.vhdx"), "x"));
    s.remove("a");
    assertFalse(s.exists("a"));
    assertFalse(Files.exists(root.resolve("a")));
    assertFalse(Files.exists(root.resolve("a-removing")));
    assertEquals(GraphDriverException.Category.NOT_FOUND,
        assertThrows(GraphDriverException.class, () -> s.remove("a")).category());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "a/b", "../x", ".hidden", "cache", "scratch", "mnt", "x-removing",
      "nul\u0000", "tab\t", "back\\slash"})
  void badIdsAreRejectedWithAClearError(String id) {
    GraphDriverException e = assertThrows(GraphDriverException.class, () -> LayerIds.check(id));
    assertEquals(GraphDriverException.Category.INVALID_ARGUMENT, e.category());
    assertTrue(e.getMessage().startsWith("invalid layer id"), e.getMessage());
  }

  @Test
  void longIdsAreRejectedAndDockerIdsAccepted() {
    assertThrows(GraphDriverException.class, () -> LayerIds.check("a".repeat(201)));
    String hex = "0123456789abcdef".repeat(4);
    assertEquals(hex, LayerIds.check(hex));
    assertEquals(hex + "-init", LayerIds.check(hex + "-init"));
    assertEquals("Base", LayerIds.check("Base"));
  }
}
