package io.lcowgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Checks that dependencies between the project's packages point one way (docs/architecture.md): the HTTP edge knows
 * only the GraphDriver interface, format packages need only the JDK, and nothing below the driver reaches up.
 */
class ArchitectureTest {

  private static final String ROOT = "io.lcowgd";
  private static final Pattern IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?io\\.lcowgd\\.((?:[a-z0-9_]+\\.)*[a-z0-9_]+)\\.[A-Z]", Pattern.MULTILINE);

  /** Each package (relative to io.lcowgd) and the project packages it may import. */
  private static final Map<String, Set<String>> ALLOWED =
      Map.ofEntries(
          Map.entry("disk", Set.of()),
          Map.entry("ext4.format", Set.of()),
          Map.entry("graphdriver", Set.of()),
          Map.entry("config", Set.of()),
          Map.entry("io", Set.of()),
          Map.entry("posix", Set.of()),
          Map.entry("vhd", Set.of("disk")),
          Map.entry("vhdx", Set.of("disk")),
          Map.entry("ext4", Set.of("ext4.format", "disk")),
          Map.entry("image", Set.of("disk", "vhd", "vhdx")),
          Map.entry("convert", Set.of("ext4", "ext4.format", "disk", "vhd", "image", "graphdriver", "io")),
          Map.entry("sandbox", Set.of("vhdx", "disk", "io", "posix")),
          Map.entry("layerstore", Set.of("graphdriver", "config", "vhd", "io", "posix")),
          Map.entry("svm", Set.of("config", "io", "disk")),
          Map.entry("svm.host", Set.of("svm", "io", "posix", "disk")),
          Map.entry("svm.uml", Set.of("svm", "config", "io", "posix", "disk")),
          Map.entry(
              "lcow",
              Set.of(
                  "graphdriver", "config", "layerstore", "svm", "svm.host", "svm.uml", "convert", "sandbox", "vhd",
                  "vhdx", "image", "ext4", "disk", "io")),
          Map.entry("protocol.transport", Set.of("config")),
          Map.entry("protocol", Set.of("graphdriver", "config", "protocol.transport", "io")));

  /** The composition root and the launcher commands may wire anything together. */
  private static final Set<String> WIRING = Set.of("", "cli");

  @Test
  void dependenciesPointDownward() throws IOException {
    Path src = Path.of("src/main/java/io/lcowgd");
    List<String> violations = new ArrayList<>();
    Set<String> unknown = new TreeSet<>();
    try (Stream<Path> files = Files.walk(src)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        String pkg = src.relativize(f.getParent()).toString().replace('/', '.');
        if (WIRING.contains(pkg)) {
          continue;
        }
        Set<String> allowed = ALLOWED.get(pkg);
        if (allowed == null) {
          unknown.add(pkg);
          continue;
        }
        Matcher m = IMPORT.matcher(Files.readString(f));
        while (m.find()) {
          String target = m.group(1);
          if (!target.equals(pkg) && !allowed.contains(target)) {
            violations.add(ROOT + "." + pkg + " -> " + ROOT + "." + target + " in " + f.getFileName());
          }
        }
      }
    }
    assertTrue(unknown.isEmpty(), "packages without a rule in ArchitectureTest: " + unknown);
    assertEquals(List.of(), violations, "imports against the dependency direction");
  }

  @Test
  void formatPackagesUseOnlyTheJdk() throws IOException {
    for (String pkg : List.of("disk", "ext4/format", "vhd", "vhdx", "graphdriver", "config", "io")) {
      try (Stream<Path> files = Files.list(Path.of("src/main/java/io/lcowgd", pkg))) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
          for (String line : Files.readAllLines(f)) {
            if (line.startsWith("import ")) {
              String what = line.replace("import static ", "").replace("import ", "");
              assertTrue(what.startsWith("java.") || what.startsWith("io.lcowgd."), f + ": " + line);
            }
          }
        }
      }
    }
  }
}
