package io.lcowgd.testing;

import io.lcowgd.graphdriver.Capabilities;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.graphdriver.IdMap;
import io.lcowgd.graphdriver.StatusLine;
import io.lcowgd.graphdriver.TarStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link GraphDriver} for protocol tests: records every call with its arguments, answers with canned values, and
 * can be told to fail or to run a hook per method. ApplyDiff reads the stream to its end (or as the hook says) and
 * counts the bytes as they arrive.
 */
public final class RecordingDriver implements GraphDriver {

  /** One recorded call: the method name and its arguments (the tar stream of applyDiff is left out). */
  public record Call(String method, List<Object> args) {}

  /** Code run at the start of a method (may block, throw, or read the applyDiff stream). */
  @FunctionalInterface
  public interface Hook {
    Object run(Object[] args) throws Exception;
  }

  public final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Map<String, Hook> hooks = new ConcurrentHashMap<>();
  /** Bytes of applyDiff streams read so far, updated while reading. */
  public final AtomicLong appliedBytes = new AtomicLong();

  public volatile String dir = "/var/lib/lcow/mnt/x";
  public volatile boolean exists = true;
  public volatile List<StatusLine> status = List.of(new StatusLine("Root Dir", "/var/lib/lcow"),
      new StatusLine("Backend", "host"));
  public volatile Map<String, String> metadata = Map.of("Dir", "/var/lib/lcow/x");
  public volatile List<Change> changes = List.of(new Change("/etc/x", Change.Kind.ADD),
      new Change("/newdir", Change.Kind.ADD), new Change("/tmp/newfile", Change.Kind.DELETE));
  public volatile long diffSize = 3;
  public volatile Capabilities capabilities = new Capabilities(false);
  public volatile TarStream diffStream;

  /** Runs {@code hook} at the start of {@code method}; a non-null return value replaces the canned answer. */
  public RecordingDriver on(String method, Hook hook) {
    hooks.put(method, hook);
    return this;
  }

  /** Makes {@code method} throw {@code failure}. */
  public RecordingDriver failing(String method, Exception failure) {
    return on(method, a -> {
      throw failure;
    });
  }

  /** The calls of one method. */
  public List<Call> calls(String method) {
    List<Call> out = new ArrayList<>();
    for (Call c : calls) {
      if (c.method().equals(method)) {
        out.add(c);
      }
    }
    return out;
  }

  private Object record(String method, Object... args) throws IOException {
    calls.add(new Call(method, Arrays.asList(args)));
    Hook h = hooks.get(method);
    if (h == null) {
      return null;
    }
    try {
      return h.run(args);
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  @Override
  public void init(String home, List<String> options, List<IdMap> uidMaps, List<IdMap> gidMaps) throws IOException {
    record("init", home, options, uidMaps, gidMaps);
  }

  @Override
  public void create(String id, String parent, String mountLabel, Map<String, String> storageOpt) throws IOException {
    record("create", id, parent, mountLabel, storageOpt);
  }

  @Override
  public void createReadWrite(String id, String parent, String mountLabel, Map<String, String> storageOpt)
      throws IOException {
    record("createReadWrite", id, parent, mountLabel, storageOpt);
  }

  @Override
  public void remove(String id) throws IOException {
    record("remove", id);
  }

  @Override
  public String get(String id, String mountLabel) throws IOException {
    Object r = record("get", id, mountLabel);
    return r != null ? (String) r : dir;
  }

  @Override
  public void put(String id) throws IOException {
    record("put", id);
  }

  @Override
  public boolean exists(String id) throws IOException {
    Object r = record("exists", id);
    return r != null ? (Boolean) r : exists;
  }

  @Override
  public List<StatusLine> status() throws IOException {
    record("status");
    return status;
  }

  @Override
  public Map<String, String> getMetadata(String id) throws IOException {
    record("getMetadata", id);
    return metadata;
  }

  @Override
  public void cleanup() throws IOException {
    record("cleanup");
  }

  @Override
  public TarStream diff(String id, String parent) throws IOException {
    Object r = record("diff", id, parent);
    return r != null ? (TarStream) r : diffStream;
  }

  @Override
  public List<Change> changes(String id, String parent) throws IOException {
    record("changes", id, parent);
    return changes;
  }

  @Override
  public long applyDiff(String id, String parent, InputStream tar) throws IOException {
    calls.add(new Call("applyDiff", List.of(id, parent)));
    Hook h = hooks.get("applyDiff");
    if (h != null) {
      try {
        Object r = h.run(new Object[] {id, parent, tar});
        if (r != null) {
          return (Long) r;
        }
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    }
    byte[] buf = new byte[65536];
    for (int n; (n = tar.read(buf)) >= 0; ) {
      appliedBytes.addAndGet(n);
    }
    return appliedBytes.get();
  }

  @Override
  public long diffSize(String id, String parent) throws IOException {
    record("diffSize", id, parent);
    return diffSize;
  }

  @Override
  public Capabilities capabilities() {
    calls.add(new Call("capabilities", List.of()));
    return capabilities;
  }
}
