package io.lcowgd.lcow;

import io.lcowgd.graphdriver.Change;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.TarStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** ApplyDiff, Diff, Changes and DiffSize over the tar/ext4 converters. */
final class LayerDiffs {
  private LayerDiffs() {}

  static TarStream diff(LcowDriver d, LcowDriver.Context c, String id, String parent) throws IOException {
    throw notYet("Diff");
  }

  static List<Change> changes(LcowDriver d, LcowDriver.Context c, String id, String parent) throws IOException {
    throw notYet("Changes");
  }

  static long diffSize(LcowDriver d, LcowDriver.Context c, String id, String parent) throws IOException {
    throw notYet("DiffSize");
  }

  static long applyDiff(LcowDriver.Context c, String id, String parent, InputStream tar) throws IOException {
    throw notYet("ApplyDiff");
  }

  private static GraphDriverException notYet(String op) {
    return new GraphDriverException(GraphDriverException.Category.UNAVAILABLE,
        op + ": the tar/ext4 converters are not merged into this branch yet");
  }
}
