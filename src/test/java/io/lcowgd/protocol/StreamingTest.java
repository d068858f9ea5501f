package io.lcowgd.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.testing.RawHttp;
import io.lcowgd.testing.RawHttp.Response;
import io.lcowgd.testing.RecordingDriver.Call;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** ApplyDiff (chunked body streamed into the driver, drained before the reply) and Diff (raw tar out, abort). */
class StreamingTest extends ServedDriverFixture {

  /** The head dockerd sends for ApplyDiff: ids in the unescaped query, chunked body, no Content-Length. */
  static byte[] applyDiffHead(String id, String parent) {
    return ("POST /GraphDriver.ApplyDiff?id=" + id + "&parent=" + parent + " HTTP/1.1\r\n"
        + "Host: \r\nUser-Agent: Go-http-client/1.1\r\nTransfer-Encoding: chunked\r\n"
        + "Accept: application/vnd.docker.plugins.v1.2+json\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private Response applyDiff(String id, String parent, byte[] body, int chunk) throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      c.send(applyDiffHead(id, parent));
      for (int off = 0; off < body.length; off += chunk) {
        c.sendChunk(body, off, Math.min(chunk, body.length - off));
      }
      c.sendChunk(body, 0, 0);
      return c.read();
    }
  }

  @Test
  void applyDiffHandsTheChunkedBodyToTheDriverAndRepliesSize() throws IOException {
    byte[] tar = new byte[2_129_920];
    new Random(7).nextBytes(tar);
    byte[][] seen = new byte[1][];
    driver.on("applyDiff", a -> {
      seen[0] = ((InputStream) a[2]).readAllBytes();
      return 2_100_000L;
    });
    Response r = applyDiff(PluginServerTest.L1, "", tar, 27_000);
    assertEquals(200, r.status(), r.text());
    assertEquals("{\"Size\":2100000}", r.text());
    assertEquals(List.of(new Call("applyDiff", List.of(PluginServerTest.L1, ""))), driver.calls);
    assertArrayEquals(tar, seen[0]);
  }

  @Test
  void applyDiffReadsIdAndParentFromTheQuery() throws IOException {
    Response r = applyDiff(PluginServerTest.L2, PluginServerTest.L1, new byte[10_240], 4096);
    assertEquals("{\"Size\":10240}", r.text());
    assertEquals(List.of(new Call("applyDiff", List.of(PluginServerTest.L2, PluginServerTest.L1))), driver.calls);
  }

  @Test
  void queryValuesArePercentDecodedButPlusIsKept() throws IOException {
    applyDiff("a%2Db", "x+y", new byte[10], 10);
    assertEquals(List.of(new Call("applyDiff", List.of("a-b", "x+y"))), driver.calls);
  }

  @Test
  void applyDiffDrainsWhatTheDriverLeftBeforeReplying() throws IOException {
    AtomicLong left = new AtomicLong();
    driver.on("applyDiff", a -> {
      ((InputStream) a[2]).readNBytes(1000);
      ((InputStream) a[2]).close(); // must not cut the request body short
      return 1000L;
    });
    byte[] tar = new byte[3 << 20];
    try (RawHttp c = RawHttp.unix(socket)) {
      c.send(applyDiffHead("a", ""));
      for (int off = 0; off < tar.length; off += 65536) {
        c.sendChunk(tar, off, 65536);
      }
      c.sendChunk(tar, 0, 0);
      Response r = c.read();
      assertEquals("{\"Size\":1000}", r.text());
      // The connection is still usable: the body was consumed to its final chunk.
      assertEquals("{\"Implements\":[\"GraphDriver\"]}", c.call("Plugin.Activate", null).text());
    }
    assertEquals(0, left.get());
  }

  @Test
  void applyDiffErrorsAre500AfterTheBodyIsDrained() throws IOException {
    driver.on("applyDiff", a -> {
      ((InputStream) a[2]).readNBytes(512);
      throw GraphDriverException.invalidArgument("layer a: bad tar header at offset 512");
    });
    byte[] tar = new byte[1 << 20];
    try (RawHttp c = RawHttp.unix(socket)) {
      c.send(applyDiffHead("a", ""));
      for (int off = 0; off < tar.length; off += 8192) {
        c.sendChunk(tar, off, 8192);
      }
      c.sendChunk(tar, 0, 0);
      Response r = c.read();
      assertEquals(500, r.status());
      assertEquals("{\"Err\":\"layer a: bad tar header at offset 512\"}", r.text());
      assertEquals(200, c.call("Plugin.Activate", null).status(), "connection reusable after the drain");
    }
  }

  @Test
  void applyDiffWithoutIdIs500() throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      c.send(("POST /GraphDriver.ApplyDiff?parent= HTTP/1.1\r\nHost: \r\nTransfer-Encoding: chunked\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      c.sendChunk(new byte[100], 0, 100);
      c.sendChunk(new byte[0], 0, 0);
      Response r = c.read();
      assertEquals(500, r.status());
      assertTrue(r.text().contains("missing layer id in the query string"), r.text());
    }
    assertTrue(driver.calls.isEmpty());
  }

  @Test
  void applyDiffStreams512MegabytesWithBoundedHeap() throws Exception {
    long total = 512L << 20;
    AtomicLong maxUsed = new AtomicLong();
    AtomicBoolean sawDataBeforeClientFinished = new AtomicBoolean();
    AtomicBoolean clientDone = new AtomicBoolean();
    driver.on("applyDiff", a -> {
      InputStream in = (InputStream) a[2];
      byte[] buf = new byte[65536];
      long n = 0;
      for (int r; (r = in.read(buf)) >= 0; ) {
        n += r;
        if (n > 0 && !clientDone.get()) {
          sawDataBeforeClientFinished.set(true);
        }
        if ((n & ((64 << 20) - 1)) < r) {
          // Live heap, not garbage: what would grow if the body were buffered.
          System.gc();
          Runtime rt = Runtime.getRuntime();
          maxUsed.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
        }
      }
      return n;
    });
    byte[] chunk = new byte[32 * 1024];
    new Random(1).nextBytes(chunk);
    long t0 = System.nanoTime();
    Response r;
    try (RawHttp c = RawHttp.unix(socket)) {
      c.send(applyDiffHead("big", ""));
      for (long sent = 0; sent < total; sent += chunk.length) {
        c.sendChunk(chunk, 0, chunk.length);
      }
      clientDone.set(true);
      c.sendChunk(chunk, 0, 0);
      r = c.read();
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals("{\"Size\":" + total + "}", r.text());
    assertTrue(sawDataBeforeClientFinished.get(), "the driver must read while the client is still sending");
    System.out.printf("ApplyDiff 512 MiB chunked: %d ms, max live heap during the stream %d MiB (max heap %d MiB)%n",
        ms, maxUsed.get() >> 20, Runtime.getRuntime().maxMemory() >> 20);
    assertTrue(maxUsed.get() < 128L << 20, "live heap " + (maxUsed.get() >> 20) + " MiB while streaming 512 MiB");
  }

  /** A tar stream of {@code size} bytes of a pattern that fails after {@code failAfter} bytes (-1: never). */
  static class PatternTar implements TarStream {
    final long size;
    final long failAfter;
    final AtomicBoolean closed = new AtomicBoolean();

    PatternTar(long size, long failAfter) {
      this.size = size;
      this.failAfter = failAfter;
    }

    static byte at(long i) {
      return (byte) (i * 31 + (i >> 9));
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      byte[] buf = new byte[8192];
      for (long pos = 0; pos < size; pos += buf.length) {
        if (failAfter >= 0 && pos >= failAfter) {
          throw new IOException("reading layer x: I/O error at byte " + pos);
        }
        int n = (int) Math.min(buf.length, size - pos);
        for (int i = 0; i < n; i++) {
          buf[i] = at(pos + i);
        }
        out.write(buf, 0, n);
      }
    }

    @Override
    public void close() {
      closed.set(true);
    }
  }

  @Test
  void diffStreamsARawTarAndClosesIt() throws IOException {
    PatternTar tar = new PatternTar(5_000_000, -1);
    driver.diffStream = tar;
    Response r;
    try (RawHttp c = RawHttp.unix(socket)) {
      r = c.call("GraphDriver.Diff", "{\"ID\":\"" + PluginServerTest.M + "\",\"Parent\":\"" + PluginServerTest.M
          + "-init\"}");
      assertEquals(200, r.status());
      assertEquals("application/x-tar", r.header("content-type"));
      assertEquals("chunked", r.header("transfer-encoding"));
      assertTrue(r.complete(), "clean end with the final chunk");
      assertEquals(5_000_000, r.body().length);
      for (int i = 0; i < r.body().length; i++) {
        if (r.body()[i] != PatternTar.at(i)) {
          throw new AssertionError("byte " + i + " differs");
        }
      }
      assertEquals(200, c.call("Plugin.Activate", null).status(), "keep-alive after a streamed reply");
    }
    assertTrue(tar.closed.get());
    assertEquals(List.of(new Call("diff", List.of(PluginServerTest.M, PluginServerTest.M + "-init"))), driver.calls);
  }

  @Test
  void aSmallDiffIsACompleteReply() throws IOException {
    PatternTar tar = new PatternTar(10_240, -1);
    driver.diffStream = tar;
    Response r;
    try (RawHttp c = RawHttp.unix(socket)) {
      r = c.call("GraphDriver.Diff", "{\"ID\":\"a\"}");
    }
    assertEquals(200, r.status());
    assertTrue(r.complete());
    assertEquals(10_240, r.body().length);
    assertTrue(tar.closed.get());
  }

  @Test
  void aTarThatWasWrittenCompletelyStaysValidWhenItsCloseFails() throws IOException {
    for (long size : new long[] {10_240, 3_000_000}) {
      PatternTar tar = new PatternTar(size, -1) {
        @Override
        public void close() {
          super.close();
          throw new IllegalStateException("unmount failed");
        }
      };
      driver.diffStream = tar;
      Response r;
      try (RawHttp c = RawHttp.unix(socket)) {
        r = c.call("GraphDriver.Diff", "{\"ID\":\"a\"}");
      }
      assertEquals(200, r.status());
      assertTrue(r.complete());
      assertEquals(size, r.body().length);
      assertTrue(tar.closed.get());
    }
  }

  @Test
  void diffValidationErrorsAre500Json() throws IOException {
    driver.failing("diff", GraphDriverException.notFound("layer nope does not exist"));
    Response r;
    try (RawHttp c = RawHttp.unix(socket)) {
      r = c.call("GraphDriver.Diff", "{\"ID\":\"nope\"}");
    }
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"layer nope does not exist\"}", r.text());
  }

  @Test
  void aDiffFailingBeforeAnyByteWasSentIsStillA500() throws IOException {
    PatternTar tar = new PatternTar(1_000_000, 0);
    driver.diffStream = tar;
    Response r;
    try (RawHttp c = RawHttp.unix(socket)) {
      r = c.call("GraphDriver.Diff", "{\"ID\":\"a\"}");
    }
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"reading layer x: I/O error at byte 0\"}", r.text());
    assertTrue(tar.closed.get());
  }

  @Test
  void aDiffFailingMidStreamAbortsTheConnection() throws IOException {
    PatternTar tar = new PatternTar(8_000_000, 1_048_576);
    driver.diffStream = tar;
    Response r;
    try (RawHttp c = RawHttp.unix(socket)) {
      r = c.call("GraphDriver.Diff", "{\"ID\":\"a\"}");
    }
    assertEquals(200, r.status(), "the status line was already sent");
    assertFalse(r.complete(), "the reply must not end cleanly; got " + r.body().length + " bytes");
    assertTrue(r.body().length >= 1_000_000 && r.body().length <= 1_048_576,
        "body cut at the failure: " + r.body().length);
    assertTrue(tar.closed.get(), "the tar stream is closed even when aborted");
  }

  @Test
  void aClientHangingUpMidDiffClosesTheTarStream() throws Exception {
    PatternTar tar = new PatternTar(1L << 30, -1);
    driver.diffStream = tar;
    try (RawHttp c = RawHttp.unix(socket)) {
      byte[] body = "{\"ID\":\"a\"}\n".getBytes(StandardCharsets.US_ASCII);
      c.send(RawHttp.dockerHead("GraphDriver.Diff", body.length).getBytes(StandardCharsets.US_ASCII));
      c.send(body);
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!tar.closed.get() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(tar.closed.get(), "TarStream.close() after the client went away");
  }
}
