package io.lcowgd.graphdriver;

/** One {@code [key, value]} pair of {@code GraphDriver.Status}. */
public record StatusLine(String key, String value) {}
