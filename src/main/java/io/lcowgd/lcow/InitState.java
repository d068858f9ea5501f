package io.lcowgd.lcow;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * What {@code GraphDriver.Init} said, persisted as {@code <state dir>/lcow-init.json} (the state dir is {@code
 * serve --root}) so a restarted plugin, which dockerd does not Init again, keeps using the same home and options.
 *
 * @param home the Home dockerd sent (the data root)
 * @param options the Opts dockerd sent ({@code --storage-opt}), verbatim
 */
public record InitState(String home, List<String> options) {
  public static final String FILE = "lcow-init.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  public InitState {
    options = options == null ? List.of() : List.copyOf(options);
  }

  /** Reads the state saved in {@code stateDir}, or null if none was saved. */
  static InitState load(Path stateDir) throws IOException {
    Path f = stateDir.resolve(FILE);
    try {
      return JSON.readValue(Files.readAllBytes(f), InitState.class);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new IOException("corrupt " + f + ": " + e.getMessage(), e);
    }
  }

  /** Saves this state in {@code stateDir} atomically (temp file, fsync, rename, fsync dir). */
  void save(Path stateDir) throws IOException {
    Files.createDirectories(stateDir);
    Path tmp = stateDir.resolve("." + FILE + ".tmp");
    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, stateDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel ch = FileChannel.open(stateDir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
