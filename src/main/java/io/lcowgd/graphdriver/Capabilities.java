package io.lcowgd.graphdriver;

/** Driver capabilities as dockerd reads them ({@code {"Capabilities":{"ReproducesExactDiffs":…}}}). */
public record Capabilities(boolean reproducesExactDiffs) {}
