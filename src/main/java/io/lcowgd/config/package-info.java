/**
 * Validated, immutable configuration parsed once at the edge (JDK only).
 *
 * <p>Vocabulary:
 *
 * <ul>
 *   <li><b>serve options</b> ({@link io.lcowgd.config.ServeConfig}): the command line of {@code lcow serve}: data root,
 *       unix socket, TCP listener, {@code .spec} file, plugin name and daemon-wide {@code --opt lcow.KEY=VALUE}.
 *   <li><b>driver options</b> ({@link io.lcowgd.config.DriverConfig}): the {@code lcow.*} keys of the original LCOW
 *       driver, from {@code --opt} and from the {@code Opts} dockerd sends in {@code GraphDriver.Init} (its
 *       {@code --storage-opt} list, forwarded verbatim).
 *   <li><b>layer options</b> ({@link io.lcowgd.config.LayerOptions}): the per-container {@code StorageOpt} map of
 *       {@code GraphDriver.CreateReadWrite} ({@code docker create --storage-opt}).
 * </ul>
 *
 * <p>Keys are matched case-insensitively, as opengcs did. Every {@code key=value} is checked: an unknown
 * {@code lcow.*} key, a key without the {@code lcow.} prefix, or a bad value is a {@link
 * io.lcowgd.config.ConfigException} naming the key and the value. Nothing is passed inwards as a string map.
 */
package io.lcowgd.config;
