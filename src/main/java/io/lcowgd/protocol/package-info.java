/**
 * The HTTP edge: the Docker plugin protocol ({@code /Plugin.Activate}, {@code /GraphDriver.*}) served by Javalin over
 * the listeners of {@link io.lcowgd.protocol.transport}, as dockerd 17.06-27.x speaks it.
 *
 * <p>Entry point: {@link io.lcowgd.protocol.PluginServer#start}. The server is a thin adapter: every endpoint is one
 * row of {@link io.lcowgd.protocol.Endpoints#table()} that decodes a request record ({@link
 * io.lcowgd.protocol.Wire}), makes one {@link io.lcowgd.graphdriver.GraphDriver} call and encodes the result. All
 * failures are turned into HTTP 500 + {@code {"Err": message}} in one place ({@link
 * io.lcowgd.protocol.ErrorReplies}); unknown paths get 404 so that dockerd falls back to default capabilities. The
 * two streaming endpoints differ only in their bodies: {@code ApplyDiff} hands the raw request body to the driver and
 * drains it before replying, {@code Diff} writes a raw tar and aborts the connection if the tar fails part-way.
 */
package io.lcowgd.protocol;
