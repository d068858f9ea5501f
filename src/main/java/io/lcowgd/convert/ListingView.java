package io.lcowgd.convert;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One layer's tree as a guest listed it ({@link GuestListing}), read by the host's change rules ({@link LayerChanges})
 * like an image. A complete listing ({@code probedBy} null) holds the whole tree; a probe (a parent layer listed
 * against the sandbox's tree {@code probedBy}) holds, for every directory of {@code probedBy}, that directory's entries
 * in the layer, and asking it for any other directory fails instead of guessing. An empty {@code lost+found} at the
 * root of a whole-filesystem tree is left out, as {@link LayerView} does. {@code label} names the listing in messages.
 */
public record ListingView(GuestListing listing, GuestListing probedBy, String label)
    implements TreeView<GuestListing.Entry> {

  /** One name of a listed directory. */
  public record Child(byte[] rawName, GuestListing.Entry node) implements TreeView.Child<GuestListing.Entry> {}

  /**
   * The views of a guest Changes stream: the sandbox's complete listing first, then the probes of its parent chain
   * (nearest first) against it.
   */
  public static List<ListingView> chain(List<GuestListing> layers) {
    List<ListingView> out = new ArrayList<>(layers.size());
    for (int i = 0; i < layers.size(); i++) {
      out.add(new ListingView(layers.get(i), i == 0 ? null : layers.get(0), "guest listing of layer " + i));
    }
    return out;
  }

  @Override
  public GuestListing.Entry treeRoot() throws IOException {
    GuestListing.Entry r = listing.get("");
    if (!r.isDir()) {
      throw new IOException(label + ": the tree root is not a directory");
    }
    return r;
  }

  @Override
  public List<Child> entries(GuestListing.Entry dir) throws IOException {
    String path = dir.path();
    if (probedBy != null && !probed(path)) {
      throw new IOException(label + " lacks the entries of directory /" + PaxTarWriter.display(path));
    }
    List<String> paths = listing.childPaths(path);
    List<Child> out = new ArrayList<>(paths.size());
    for (String child : paths) {
      GuestListing.Entry e = listing.get(child);
      if (listing.wholeFs() && path.isEmpty() && child.equals("lost+found") && e.isDir()
          && listing.childPaths(child).isEmpty()) {
        continue; // an empty lost+found at a filesystem root is ext4's, not layer content
      }
      out.add(new Child(GuestListing.nameOf(child).getBytes(StandardCharsets.ISO_8859_1), e));
    }
    out.sort((a, b) -> Arrays.compareUnsigned(a.rawName(), b.rawName()));
    return out;
  }

  /** Whether the probe listed the entries of {@code path} (the lister's start points). */
  private boolean probed(String path) {
    GuestListing.Entry t = probedBy.get(path);
    return (t != null && t.isDir()) || (listing.wholeFs() && path.equals("lost+found"));
  }

  @Override
  public boolean isOpaque(GuestListing.Entry dir) {
    return listing.isOpaque(dir.path());
  }

  @Override
  public boolean isWhiteout(GuestListing.Entry node) {
    return node.isWhiteout();
  }

  @Override
  public int mode(GuestListing.Entry node) {
    return node.mode();
  }

  @Override
  public long uid(GuestListing.Entry node) {
    return node.uid();
  }

  @Override
  public long gid(GuestListing.Entry node) {
    return node.gid();
  }

  @Override
  public long size(GuestListing.Entry node) {
    return node.size();
  }

  @Override
  public Instant mtime(GuestListing.Entry node) {
    return node.mtime();
  }

  @Override
  public long links(GuestListing.Entry node) {
    return node.links();
  }

  @Override
  public long inodeNumber(GuestListing.Entry node) {
    return node.inode();
  }

  @Override
  public byte[] linkTarget(GuestListing.Entry link) {
    return link.target();
  }
}
