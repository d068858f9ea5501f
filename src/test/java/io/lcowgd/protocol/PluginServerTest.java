package io.lcowgd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.IdMap;
import io.lcowgd.testing.RawHttp;
import io.lcowgd.testing.RawHttp.Response;
import io.lcowgd.testing.RecordingDriver.Call;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every JSON endpoint with the exact request bodies dockerd 20.10.24 sends (protocol.md §6.1: Go's trailing newline,
 * empty {@code Host:}, no {@code Content-Type}), checked byte for byte on the way out and call for call on the driver.
 */
class PluginServerTest extends ServedDriverFixture {
  static final String L1 = "3c5a9b3f1d2e4c6b8a7f0e1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b504f4";
  static final String M = "231e7f6e5d4c3b2a1908f7e6d5c4b3a29180706f5e4d3c2b1a09f8e7d6c5c523";
  static final String L2 = "e7d5a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c1955";


  private Response call(String method, String body) throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      return c.call(method, body);
    }
  }

  private static void assertJson(Response r, String json) {
    assertEquals(200, r.status(), r.text());
    assertEquals(json, r.text());
    assertEquals(Exchange.JSON_TYPE, r.header("content-type"));
    assertEquals(String.valueOf(json.length()), r.header("content-length"));
    assertNull(r.header("content-encoding"));
  }

  @Test
  void activateAnswersImplementsGraphDriverToAnEmptyBody() throws IOException {
    Response r = call("Plugin.Activate", null);
    assertJson(r, "{\"Implements\":[\"GraphDriver\"]}");
    assertTrue(driver.calls.isEmpty(), "Activate must not touch the driver");
  }

  @Test
  void initPassesHomeAndNullOptsAsEmptyLists() throws IOException {
    Response r = call("GraphDriver.Init",
        "{\"Home\":\"/var/lib/docker/lcow\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}");
    assertJson(r, "{}");
    assertEquals(List.of(new Call("init", List.of("/var/lib/docker/lcow", List.of(), List.of(), List.of()))),
        driver.calls);
  }

  @Test
  void initPassesStorageOptsVerbatimAndSnakeCaseIdMaps() throws IOException {
    call("GraphDriver.Init", "{\"Home\":\"/d/lcow\",\"Opts\":[\"lcow.foo=bar\",\"size=10G\"],"
        + "\"UIDMaps\":[{\"container_id\":0,\"host_id\":100000,\"size\":65536}],"
        + "\"GIDMaps\":[{\"container_id\":0,\"host_id\":200000,\"size\":1000},"
        + "{\"container_id\":1000,\"host_id\":300000,\"size\":1}]}");
    assertEquals(List.of(new Call("init", List.of("/d/lcow", List.of("lcow.foo=bar", "size=10G"),
        List.of(new IdMap(0, 100000, 65536)),
        List.of(new IdMap(0, 200000, 1000), new IdMap(1000, 300000, 1))))), driver.calls);
  }

  @Test
  void capabilitiesAreNested() throws IOException {
    assertJson(call("GraphDriver.Capabilities", "{}"), "{\"Capabilities\":{\"ReproducesExactDiffs\":false}}");
    driver.capabilities = new io.lcowgd.graphdriver.Capabilities(true);
    assertJson(call("GraphDriver.Capabilities", "{}"), "{\"Capabilities\":{\"ReproducesExactDiffs\":true}}");
  }

  @Test
  void statusIsAListOfPairs() throws IOException {
    assertJson(call("GraphDriver.Status", "{}"),
        "{\"Status\":[[\"Root Dir\",\"/var/lib/lcow\"],[\"Backend\",\"host\"]]}");
  }

  @Test
  void createWithOnlyAnIdGetsEmptyParentLabelAndOptions() throws IOException {
    Response r = call("GraphDriver.Create", "{\"ID\":\"" + L1 + "\"}");
    assertEquals(74, ("{\"ID\":\"" + L1 + "\"}\n").length(), "the 74-byte body of protocol.md §6.1");
    assertJson(r, "{}");
    assertEquals(List.of(new Call("create", List.of(L1, "", "", Map.of()))), driver.calls);
  }

  @Test
  void createReadWritePassesParentAndStorageOpt() throws IOException {
    String body = "{\"ID\":\"" + M + "-init\",\"Parent\":\"" + L1 + "\",\"StorageOpt\":{\"size\":\"1G\"}}";
    assertJson(call("GraphDriver.CreateReadWrite", body), "{}");
    assertEquals(List.of(new Call("createReadWrite", List.of(M + "-init", L1, "", Map.of("size", "1G")))),
        driver.calls);
  }

  @Test
  void createWithParentAndMountLabel() throws IOException {
    assertJson(call("GraphDriver.Create",
        "{\"ID\":\"" + L2 + "\",\"Parent\":\"" + L1 + "\",\"MountLabel\":\"system_u:object_r:x\"}"), "{}");
    assertEquals(List.of(new Call("create", List.of(L2, L1, "system_u:object_r:x", Map.of()))), driver.calls);
  }

  @Test
  void keysMatchCaseInsensitivelyAsInGo() throws IOException {
    assertJson(call("GraphDriver.Create", "{\"id\":\"a\",\"PARENT\":\"b\",\"mountlabel\":\"c\",\"storageopt\":{}}"),
        "{}");
    assertEquals(List.of(new Call("create", List.of("a", "b", "c", Map.of()))), driver.calls);
  }

  @Test
  void unknownKeysAreIgnored() throws IOException {
    assertJson(call("GraphDriver.Remove", "{\"ID\":\"a\",\"Extra\":[1,2,{\"x\":null}]}"), "{}");
    assertEquals(List.of(new Call("remove", List.of("a"))), driver.calls);
  }

  @Test
  void getReturnsDirAndPutReturnsEmptyObject() throws IOException {
    assertJson(call("GraphDriver.Get", "{\"ID\":\"" + M + "-init\"}"), "{\"Dir\":\"/var/lib/lcow/mnt/x\"}");
    assertJson(call("GraphDriver.Put", "{\"ID\":\"" + M + "-init\"}"), "{}");
    assertEquals(List.of(new Call("get", List.of(M + "-init", "")), new Call("put", List.of(M + "-init"))),
        driver.calls);
  }

  @Test
  void existsAnswersBothWays() throws IOException {
    assertJson(call("GraphDriver.Exists", "{\"ID\":\"a\"}"), "{\"Exists\":true}");
    driver.exists = false;
    assertJson(call("GraphDriver.Exists", "{\"ID\":\"a\"}"), "{\"Exists\":false}");
  }

  @Test
  void getMetadataReturnsTheMap() throws IOException {
    assertJson(call("GraphDriver.GetMetadata", "{\"ID\":\"" + M + "\"}"),
        "{\"Metadata\":{\"Dir\":\"/var/lib/lcow/x\"}}");
  }

  @Test
  void cleanupAndRemove() throws IOException {
    assertJson(call("GraphDriver.Remove", "{\"ID\":\"" + M + "\"}"), "{}");
    assertJson(call("GraphDriver.Cleanup", "{}"), "{}");
    assertEquals(List.of(new Call("remove", List.of(M)), new Call("cleanup", List.of())), driver.calls);
  }

  @Test
  void changesUseIntegerKinds() throws IOException {
    assertJson(call("GraphDriver.Changes", "{\"ID\":\"" + M + "\",\"Parent\":\"" + M + "-init\"}"),
        "{\"Changes\":[{\"Path\":\"/etc/x\",\"Kind\":1},{\"Path\":\"/newdir\",\"Kind\":1},"
            + "{\"Path\":\"/tmp/newfile\",\"Kind\":2}]}");
    assertEquals(List.of(new Call("changes", List.of(M, M + "-init"))), driver.calls);
  }

  @Test
  void diffSizeWithoutParentPassesEmptyParent() throws IOException {
    assertJson(call("GraphDriver.DiffSize", "{\"ID\":\"" + M + "\"}"), "{\"Size\":3}");
    assertEquals(List.of(new Call("diffSize", List.of(M, ""))), driver.calls);
  }

  @Test
  void everyEmptyResultIsAnObjectNeverAnEmptyBody() throws IOException {
    driver.changes = List.of();
    driver.status = List.of();
    driver.metadata = Map.of();
    assertJson(call("GraphDriver.Changes", "{\"ID\":\"a\"}"), "{\"Changes\":[]}");
    assertJson(call("GraphDriver.Status", "{}"), "{\"Status\":[]}");
    assertJson(call("GraphDriver.GetMetadata", "{\"ID\":\"a\"}"), "{\"Metadata\":{}}");
  }

  @Test
  void anEmptyBodyCountsAsAnEmptyObject() throws IOException {
    assertJson(call("GraphDriver.Status", null), "{\"Status\":[[\"Root Dir\",\"/var/lib/lcow\"],"
        + "[\"Backend\",\"host\"]]}");
  }

  @Test
  void graphDriverErrorsAre500WithErr() throws IOException {
    driver.failing("get", GraphDriverException.notFound("layer " + M + " does not exist"));
    Response r = call("GraphDriver.Get", "{\"ID\":\"" + M + "\"}");
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"layer " + M + " does not exist\"}", r.text());
  }

  @Test
  void ioErrorsKeepTheirCauseChain() throws IOException {
    driver.failing("create", new IOException("creating layer a", new NoSuchFileException("/var/lib/lcow/a")));
    Response r = call("GraphDriver.Create", "{\"ID\":\"a\"}");
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"creating layer a: NoSuchFileException: /var/lib/lcow/a\"}", r.text());
  }

  @Test
  void unexpectedExceptionsAre500WithTheirType() throws IOException {
    driver.failing("remove", new IllegalStateException("boom"));
    Response r = call("GraphDriver.Remove", "{\"ID\":\"a\"}");
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"IllegalStateException: boom\"}", r.text());
    driver.failing("put", new NullPointerException());
    r = call("GraphDriver.Put", "{\"ID\":\"a\"}");
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"NullPointerException\"}", r.text());
  }

  @Test
  void badJsonIs500WithAClearErr() throws IOException {
    Response r = call("GraphDriver.Create", "{\"ID\":");
    assertEquals(500, r.status());
    assertTrue(r.text().startsWith("{\"Err\":\"cannot decode the GraphDriver.Create request body as JSON"),
        r.text());
    r = call("GraphDriver.Create", "[1,2]");
    assertEquals(500, r.status());
    assertTrue(r.text().contains("cannot decode"), r.text());
    assertTrue(driver.calls.isEmpty());
  }

  @Test
  void aMissingIdIsRejectedBeforeTheDriver() throws IOException {
    Response r = call("GraphDriver.Remove", "{}");
    assertEquals(500, r.status());
    assertEquals("{\"Err\":\"GraphDriver.Remove: missing layer ID in the request body\"}", r.text());
    assertTrue(driver.calls.isEmpty());
  }

  @Test
  void unknownPathsAre404SoDockerdFallsBackToDefaults() throws IOException {
    Response r = call("GraphDriver.Nonsense", "{}");
    assertEquals(404, r.status());
    assertEquals("{\"Err\":\"unknown endpoint POST /GraphDriver.Nonsense\"}", r.text());
    r = call("VolumeDriver.Create", "{}");
    assertEquals(404, r.status());
  }

  @Test
  void routesOnThePathOnlyIgnoringQueryAndMethod() throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      c.send(("GET /Plugin.Activate?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      Response r = c.read();
      assertEquals("{\"Implements\":[\"GraphDriver\"]}", r.text());
    }
  }

  @Test
  void keepAliveServesManyCallsOnOneConnectionLikeGo() throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      for (int i = 0; i < 50; i++) {
        assertJson(c.call("GraphDriver.Get", "{\"ID\":\"l" + i + "\"}"), "{\"Dir\":\"/var/lib/lcow/mnt/x\"}");
        assertJson(c.call("GraphDriver.Put", "{\"ID\":\"l" + i + "\"}"), "{}");
      }
    }
    assertEquals(100, driver.calls.size());
  }

  @Test
  void anyHostHeaderIsAcceptedIncludingBlankMissingValueAndTheNewerDummyHost() throws IOException {
    for (String host : List.of("Host: \r\n", "Host:\r\n", "Host: plugin.moby.localhost\r\n",
        "Host: %2Frun%2Fdocker%2Fplugins%2Flcow.sock\r\n", "Host: 127.0.0.1:17777\r\n")) {
      try (RawHttp c = RawHttp.unix(socket)) {
        c.send(("POST /Plugin.Activate HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        Response r = c.read();
        assertEquals(200, r.status(), host + " -> " + r.text());
      }
    }
  }

  @Test
  void gzipIsNeverUsedEvenWhenAccepted() throws IOException {
    driver.status = java.util.stream.IntStream.range(0, 500)
        .mapToObj(i -> new io.lcowgd.graphdriver.StatusLine("key" + i, "value value value " + i)).toList();
    try (RawHttp c = RawHttp.unix(socket)) {
      byte[] body = "{}\n".getBytes(StandardCharsets.US_ASCII);
      c.send(("POST /GraphDriver.Status HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nContent-Length: 3\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      c.send(body);
      Response r = c.read();
      assertEquals(200, r.status());
      assertNull(r.header("content-encoding"));
      assertTrue(r.text().startsWith("{\"Status\":[[\"key0\""));
    }
  }

  @Test
  void contentTypeOfTheRequestDoesNotMatter() throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      byte[] body = "{\"ID\":\"a\"}\n".getBytes(StandardCharsets.US_ASCII);
      c.send(("POST /GraphDriver.Remove HTTP/1.1\r\nHost: \r\nContent-Type: text/plain\r\nContent-Length: "
          + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      c.send(body);
      assertEquals("{}", c.read().text());
    }
    assertFalse(driver.calls("remove").isEmpty());
  }
}
