package io.lcowgd.protocol;

import static io.lcowgd.protocol.Endpoint.json;

import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.graphdriver.IdMap;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.io.Failures;
import io.lcowgd.io.NonClosing;
import io.lcowgd.protocol.Wire.ActivateResponse;
import io.lcowgd.protocol.Wire.CapabilitiesResponse;
import io.lcowgd.protocol.Wire.ChangesResponse;
import io.lcowgd.protocol.Wire.CreateRequest;
import io.lcowgd.protocol.Wire.DirResponse;
import io.lcowgd.protocol.Wire.ExistsResponse;
import io.lcowgd.protocol.Wire.GetRequest;
import io.lcowgd.protocol.Wire.IdRequest;
import io.lcowgd.protocol.Wire.InitRequest;
import io.lcowgd.protocol.Wire.MetadataResponse;
import io.lcowgd.protocol.Wire.NoArgs;
import io.lcowgd.protocol.Wire.ParentRequest;
import io.lcowgd.protocol.Wire.SizeResponse;
import io.lcowgd.protocol.Wire.StatusResponse;
import io.lcowgd.protocol.Wire.WireIdMap;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The endpoint table: every path dockerd calls, each mapped to one {@link GraphDriver} call. */
final class Endpoints {
  private Endpoints() {}

  private static final Logger LOG = LoggerFactory.getLogger(PluginServer.class);

  private static final ActivateResponse ACTIVATE = new ActivateResponse(List.of("GraphDriver"));

  /** The content type of Diff replies. */
  static final String TAR_TYPE = "application/x-tar";

  /** Every endpoint, keyed by path in {@link PluginServer}. */
  static List<Endpoint> table() {
    return List.of(
        json("/Plugin.Activate", NoArgs.class, (d, r) -> ACTIVATE),
        json("/GraphDriver.Init", InitRequest.class, (d, r) -> {
          d.init(r.home(), r.opts(), idMaps(r.uidMaps()), idMaps(r.gidMaps()));
          return null;
        }),
        json("/GraphDriver.Create", CreateRequest.class, (d, r) -> {
          d.create(r.id(), r.parent(), r.mountLabel(), r.storageOpt());
          return null;
        }),
        json("/GraphDriver.CreateReadWrite", CreateRequest.class, (d, r) -> {
          d.createReadWrite(r.id(), r.parent(), r.mountLabel(), r.storageOpt());
          return null;
        }),
        json("/GraphDriver.Remove", IdRequest.class, (d, r) -> {
          d.remove(r.id());
          return null;
        }),
        json("/GraphDriver.Get", GetRequest.class, (d, r) -> new DirResponse(d.get(r.id(), r.mountLabel()))),
        json("/GraphDriver.Put", IdRequest.class, (d, r) -> {
          d.put(r.id());
          return null;
        }),
        json("/GraphDriver.Exists", IdRequest.class, (d, r) -> new ExistsResponse(d.exists(r.id()))),
        json("/GraphDriver.Status", NoArgs.class, (d, r) -> StatusResponse.of(d.status())),
        json("/GraphDriver.GetMetadata", IdRequest.class, (d, r) -> new MetadataResponse(d.getMetadata(r.id()))),
        json("/GraphDriver.Cleanup", NoArgs.class, (d, r) -> {
          d.cleanup();
          return null;
        }),
        json("/GraphDriver.Changes", ParentRequest.class,
            (d, r) -> ChangesResponse.of(d.changes(r.id(), r.parent()))),
        json("/GraphDriver.DiffSize", ParentRequest.class, (d, r) -> new SizeResponse(d.diffSize(r.id(), r.parent()))),
        json("/GraphDriver.Capabilities", NoArgs.class, (d, r) -> CapabilitiesResponse.of(d.capabilities())),
        new ApplyDiff(),
        new Diff());
  }

  private static List<IdMap> idMaps(List<WireIdMap> maps) {
    return maps.stream().map(WireIdMap::toIdMap).toList();
  }

  /**
   * {@code /GraphDriver.ApplyDiff?id=ID&parent=PARENT}: the raw (chunked) tar body goes straight to {@link
   * GraphDriver#applyDiff} (read in batches: {@link BatchingBody}); the body is then read to its end, also on
   * failure, before the reply.
   */
  static final class ApplyDiff implements Endpoint {
    @Override
    public String path() {
      return "/GraphDriver.ApplyDiff";
    }

    @Override
    public void serve(Exchange ex, GraphDriver driver) throws Exception {
      InputStream body = new BatchingBody(ex.body());
      long size = 0;
      Exception failure = null;
      try {
        String id = ex.query("id").filter(s -> !s.isEmpty()).orElseThrow(
            () -> new ProtocolException("GraphDriver.ApplyDiff: missing layer id in the query string (?id=ID)"));
        String parent = ex.query("parent").orElse("");
        size = driver.applyDiff(id, parent, NonClosing.input(body)); // the body must still be drained
      } catch (Exception e) {
        failure = e;
      }
      try {
        // dockerd tees the tar into a digester and expects it consumed: read to the final chunk before replying.
        body.transferTo(OutputStream.nullOutputStream());
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
      if (failure != null) {
        throw failure;
      }
      ex.replyJson(200, new SizeResponse(size));
    }
  }

  /**
   * {@code /GraphDriver.Diff}: validation errors of {@link GraphDriver#diff} are ordinary error replies; then the tar
   * is streamed raw, and a failure part-way aborts the connection so dockerd cannot take a truncated tar as complete.
   */
  static final class Diff implements Endpoint {
    @Override
    public String path() {
      return "/GraphDriver.Diff";
    }

    @Override
    public void serve(Exchange ex, GraphDriver driver) throws Exception {
      ParentRequest r = ex.readJson(ParentRequest.class);
      TarStream tar = driver.diff(r.id(), r.parent());
      Throwable writeFailure = null;
      Throwable closeFailure = null;
      try {
        OutputStream out = ex.startRaw(TAR_TYPE);
        tar.writeTo(NonClosing.output(out)); // closing would cleanly complete the reply
        out.flush();
      } catch (Throwable t) {
        writeFailure = t;
      } finally {
        try {
          tar.close();
        } catch (Throwable t) {
          closeFailure = t;
        }
      }
      if (writeFailure == null) {
        if (closeFailure != null) {
          // The whole tar was written; only releasing the producer's resources failed. The reply stays valid.
          LOG.warn("{} id={} parent={}: tar written, but releasing it failed: {}",
              ex.method(), r.id(), r.parent(), ErrorReplies.describe(closeFailure), closeFailure);
        }
        return;
      }
      if (closeFailure != null) {
        writeFailure.addSuppressed(closeFailure);
      }
      if (!ex.committed()) {
        // Nothing has reached dockerd yet: a proper error reply is still possible.
        ex.resetReply();
        throw writeFailure instanceof Exception e ? e : new IOException(writeFailure);
      }
      LOG.error("{} id={} parent={} failed after the tar stream started; aborting the connection: {}",
          ex.method(), r.id(), r.parent(), ErrorReplies.describe(writeFailure), writeFailure);
      ex.abort(writeFailure);
    }
  }
}
