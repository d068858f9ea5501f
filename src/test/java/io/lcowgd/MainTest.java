package io.lcowgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void noArgumentsIsAUsageError() {
    Result r = run();
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("usage: lcow COMMAND"), r.err());
  }

  @Test
  void unknownCommandIsAUsageErrorOnOneLine() {
    Result r = run("frobnicate");
    assertEquals(2, r.code());
    assertEquals("lcow: unknown command 'frobnicate' (try 'lcow --help')\n", r.err());
  }

  @Test
  void helpListsEveryCommand() {
    Result r = run("--help");
    assertEquals(0, r.code());
    for (var c : io.lcowgd.cli.Commands.all()) {
      assertTrue(r.out().contains(c.name()), c.name());
    }
  }

  @Test
  void oneLineJoinsCauseChainWithoutRepeats() {
    IOException inner = new IOException("disk full");
    IOException outer = new IOException("writing layer.vhd", inner);
    assertEquals("writing layer.vhd: disk full", Main.oneLine(outer));
    assertEquals("boom", Main.oneLine(new RuntimeException("boom", new RuntimeException("boom"))));
  }
}
