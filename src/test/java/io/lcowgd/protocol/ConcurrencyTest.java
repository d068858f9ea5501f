package io.lcowgd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.RawHttp;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.io.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Concurrent calls (dockerd interleaves them, including long streams), with raw sockets and Jetty's HttpClient. */
class ConcurrencyTest extends ServedDriverFixture {
  ExecutorService pool = Executors.newFixedThreadPool(12);

  @AfterEach
  void stopPool() {
    pool.shutdownNow(); // before the fixture closes the server
  }

  @Test
  void eightGetsRunInsideTheDriverAtTheSameTime() throws Exception {
    int n = 8;
    CyclicBarrier barrier = new CyclicBarrier(n);
    driver.on("get", a -> {
      barrier.await(10, TimeUnit.SECONDS); // only passes if all n calls are inside the driver together
      return "/mnt/" + a[0];
    });
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = "layer" + i;
      results.add(pool.submit(() -> {
        try (RawHttp c = RawHttp.unix(socket)) {
          return c.call("GraphDriver.Get", "{\"ID\":\"" + id + "\"}").text();
        }
      }));
    }
    for (int i = 0; i < n; i++) {
      assertEquals("{\"Dir\":\"/mnt/layer" + i + "\"}", results.get(i).get(20, TimeUnit.SECONDS));
    }
  }

  @Test
  void shortCallsAreServedWhileAnApplyDiffStreamIsInProgress() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    driver.on("applyDiff", a -> {
      InputStream in = (InputStream) a[2];
      in.readNBytes(1000);
      inside.countDown();
      assertTrue(release.await(20, TimeUnit.SECONDS));
      return (long) in.readAllBytes().length + 1000;
    });
    Future<String> apply = pool.submit(() -> {
      try (RawHttp c = RawHttp.unix(socket)) {
        c.send(StreamingTest.applyDiffHead("slow", ""));
        byte[] data = new byte[4096];
        c.sendChunk(data, 0, data.length);
        assertTrue(inside.await(20, TimeUnit.SECONDS));
        c.sendChunk(data, 0, data.length);
        c.sendChunk(data, 0, 0);
        return c.read().text();
      }
    });
    assertTrue(inside.await(20, TimeUnit.SECONDS));
    for (int i = 0; i < 20; i++) {
      try (RawHttp c = RawHttp.unix(socket)) {
        assertEquals(200, c.call("GraphDriver.Status", "{}").status());
      }
    }
    release.countDown();
    assertEquals("{\"Size\":8192}", apply.get(20, TimeUnit.SECONDS));
  }

  @Test
  void jettyHttpClientOverTheUnixSocketInterleavesManyCalls() throws Exception {
    HttpClient client = new HttpClient();
    client.start();
    try {
      List<Future<ContentResponse>> all = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String method = i % 2 == 0 ? "GraphDriver.Get" : "GraphDriver.Put";
        String body = "{\"ID\":\"l" + i + "\"}\n";
        all.add(pool.submit(() -> client.newRequest("http://plugin.moby.localhost/" + method)
            .transport(new Transport.TCPUnix(socket))
            .method("POST")
            .body(new StringRequestContent(null, body, StandardCharsets.UTF_8))
            .timeout(20, TimeUnit.SECONDS)
            .send()));
      }
      for (int i = 0; i < all.size(); i++) {
        ContentResponse r = all.get(i).get(30, TimeUnit.SECONDS);
        assertEquals(200, r.getStatus());
        assertEquals(i % 2 == 0 ? "{\"Dir\":\"/var/lib/lcow/mnt/x\"}" : "{}", r.getContentAsString());
      }
    } finally {
      client.stop();
    }
    assertEquals(100, driver.calls("get").size());
    assertEquals(100, driver.calls("put").size());
  }
}
