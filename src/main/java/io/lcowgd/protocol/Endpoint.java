package io.lcowgd.protocol;

import io.lcowgd.graphdriver.GraphDriver;

/** One row of the endpoint table: a path and how one request to it is served. */
interface Endpoint {

  /** The request path, e.g. {@code /GraphDriver.Get}. */
  String path();

  /**
   * Serves one request. Any exception thrown before a reply was sent becomes a 500 {@code {"Err"}} reply in {@link
   * ErrorReplies}; an endpoint that has started a raw reply handles its own failures (by aborting).
   */
  void serve(Exchange ex, GraphDriver driver) throws Exception;

  /** A JSON endpoint: decode a {@code Q}, make one driver call, encode the {@code R} it returns. */
  static <Q, R> Endpoint json(String path, Class<Q> requestType, DriverCall<Q, R> call) {
    return new Endpoint() {
      @Override
      public String path() {
        return path;
      }

      @Override
      public void serve(Exchange ex, GraphDriver driver) throws Exception {
        Q request = ex.readJson(requestType);
        R response = call.call(driver, request);
        ex.replyJson(200, response == null ? Wire.Empty.INSTANCE : response);
      }

      @Override
      public String toString() {
        return "json " + path;
      }
    };
  }

  /** The one driver call behind a JSON endpoint. */
  @FunctionalInterface
  interface DriverCall<Q, R> {
    R call(GraphDriver driver, Q request) throws Exception;
  }
}
