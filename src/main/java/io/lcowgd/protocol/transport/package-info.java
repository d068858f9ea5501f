/**
 * Where the plugin server listens: a unix socket dockerd finds by name, and optionally a loopback TCP port
 * registered through a {@code .spec} file.
 *
 * <p>Lifecycle of a {@link io.lcowgd.protocol.transport.Listener}: {@code prepare()} before the HTTP server starts
 * (checks, stale-socket probe), {@code connector(...)} while it starts, {@code publish()} once it listens (socket
 * permissions and name, spec file), {@code unpublish()} when it stops (removes only what this process made).
 */
package io.lcowgd.protocol.transport;
