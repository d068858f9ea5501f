package io.lcowgd.graphdriver;

/** One entry of Init's {@code UIDMaps}/{@code GIDMaps} ({@code container_id}, {@code host_id}, {@code size}). */
public record IdMap(long containerId, long hostId, long size) {}
