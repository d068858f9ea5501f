package io.lcowgd.protocol.transport;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;

/**
 * A unix socket at a fixed path (dockerd looks for {@code /run/docker/plugins/<name>.sock}).
 *
 * <p>Safety rules: an existing file at the path is removed only if it is a socket nobody answers on (a stale
 * socket, probed with a connect); a live socket makes {@link #prepare} fail and is never touched. The server binds a
 * private name next to the path ({@code .<name>.<pid>.bind}), gets its mode (0600, or 0660 and the configured group)
 * and is then hard-linked to the public path, which fails atomically if someone else took the path meanwhile, so
 * the socket is never visible with the wrong permissions. On stop the public path is removed only if it is still
 * the inode this process bound.
 */
public final class UnixSocketListener implements Listener {
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private final Path path;
  private final Optional<String> group;
  private final Path bindPath;
  private volatile Object publishedKey;

  /** A listener on {@code path} (absolute); {@code group} gets read/write access (chgrp + 0660) when present. */
  public UnixSocketListener(Path path, Optional<String> group) {
    this.path = Objects.requireNonNull(path, "path").toAbsolutePath().normalize();
    this.group = Objects.requireNonNull(group, "group");
    this.bindPath =
        this.path.resolveSibling("." + this.path.getFileName() + "." + ProcessHandle.current().pid() + ".bind");
  }

  /** The public socket path. */
  public Path path() {
    return path;
  }

  @Override
  public void prepare() throws IOException {
    if (bindPath.toString().getBytes(StandardCharsets.UTF_8).length > 107) {
      throw new IOException("unix socket " + path + ": path too long (the temporary bind name " + bindPath
          + " must stay under 108 bytes)");
    }
    Files.createDirectories(path.getParent());
    clearStale(path);
    clearStale(bindPath);
  }

  @Override
  public Connector connector(Server server, HttpConfiguration http) {
    UnixDomainServerConnector c = new UnixDomainServerConnector(server, new BlankHostConnectionFactory(http));
    c.setUnixDomainPath(bindPath);
    c.setAcceptQueueSize(128);
    return c;
  }

  @Override
  public void publish() throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(bindPath, PosixFileAttributeView.class);
    if (group.isPresent()) {
      GroupPrincipal g;
      try {
        g = bindPath.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group.get());
      } catch (IOException e) {
        throw new IOException("unix socket " + path + ": unknown group '" + group.get() + "'", e);
      }
      view.setGroup(g);
      view.setPermissions(PosixFilePermissions.fromString("rw-rw----"));
    } else {
      view.setPermissions(PosixFilePermissions.fromString("rw-------"));
    }
    try {
      Files.createLink(path, bindPath);
    } catch (FileAlreadyExistsException e) {
      throw new IOException("unix socket " + path + ": another process created it while this one was starting",
          e);
    }
    publishedKey = fileKey(path);
    Files.deleteIfExists(bindPath);
  }

  @Override
  public void unpublish() {
    Object key = publishedKey;
    publishedKey = null;
    try {
      if (key != null
          && Files.exists(path, LinkOption.NOFOLLOW_LINKS)
          && key.equals(fileKey(path))) {
        Files.delete(path);
      }
      Files.deleteIfExists(bindPath);
    } catch (IOException e) {
      // Nothing useful to do at shutdown: a stale socket is detected and removed at the next start.
    }
  }

  @Override
  public String describe() {
    return "unix:" + path;
  }

  /**
   * Removes {@code p} if it is a stale socket; fails if it is a live socket or not a socket at all.
   */
  static void clearStale(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & S_IFMT) != S_IFSOCK) {
      throw new IOException("unix socket " + p + ": the path exists and is not a socket; refusing to replace it");
    }
    if (answers(p)) {
      throw new IOException("unix socket " + p + ": another process is listening on it (is another lcow serve "
          + "running?); refusing to start");
    }
    Files.deleteIfExists(p);
  }

  private static Object fileKey(Path p) throws IOException {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
  }

  /** Whether something accepts connections on socket {@code p}. */
  static boolean answers(Path p) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(p));
      return true;
    } catch (ConnectException e) {
      return false;
    }
  }
}
