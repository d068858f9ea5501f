package io.lcowgd.lcow;

import io.lcowgd.testing.HostTools;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Every kind of entry a sandbox export handles, made by the kernel: {@link #BASE} populates a lower layer,
 * {@link #CHANGES} is run in a writable overlay over it (so overlayfs makes the whiteouts, shared whiteout inodes,
 * opaque directories and copy-ups itself). Both are bash scripts taking the directory as {@code $1}.
 */
final class SandboxCases {
  private SandboxCases() {}

  static final String BASE = """
      set -e; cd "$1"; w="$(printf 'wip\\303\\251 2')"
      mkdir -p keep wipe/sub "$w/s" gone-dir/x/y meta
      echo old > keep/old.txt; echo bye > gone.txt; echo x > wipe/sub/x; echo y > "$w/s/y"
      echo g > gone-dir/x/y/z; echo m > meta/owned; echo m2 > meta/moded; echo d1 > del1; echo d2 > keep/del2
      """;

  static final String CHANGES = """
      set -e; cd "$1"; w="$(printf 'wip\\303\\251 2')"
      # deletions: whiteouts (overlayfs links them all to one shared 0/0 device inode)
      rm gone.txt del1 keep/del2 keep/old.txt; rm -rf gone-dir
      # replaced directories: opaque
      rm -rf wipe "$w"; mkdir wipe "$w"; echo fresh > wipe/fresh
      # copy-ups changing only metadata; setuid, setgid
      chown 1234:567 meta/owned; chmod 4750 meta/owned; chmod 2755 meta/moded
      echo 'new contents' > keep/new.txt
      : > empty
      head -c 6291456 /dev/urandom > big.bin
      truncate -s 8M sparse.bin; printf tail >> sparse.bin; printf head | dd of=sparse.bin conv=notrunc status=none
      # symlinks (long target, hard-linked symlink), fifos, devices, hard links (three names, one with xattrs)
      ln -s keep/new.txt link; ln -s "$(printf 't%.0s' $(seq 150))" longlink; ln -P link link2
      mkfifo fifo; ln fifo fifo2; mknod cdev c 1 3; ln cdev cdev2; mknod bdev b 7 200
      echo hl > hard; mkdir -p hl/d; ln hard hl/d/second; ln hard zz-third; ln hard "$(printf 'hl/l\\351\\nx')"
      # names: long, UTF-8, not UTF-8, newline, space, sort order of bytes
      n120="$(printf 'n%.0s' $(seq 120))"; mkdir -p "deep/a/b/$n120"
      printf abc > "deep/a/b/$n120/$(printf 'f%.0s' $(seq 110))"
      printf u > "$(printf 'caf\\303\\251')"; printf l > "$(printf 'latin\\351')"; printf n > "$(printf 'new\\nline')"
      printf s > 'with space'
      mkdir -p ord/a; touch ord/a/x ord/a-b ord/a.b ord/A ord/_ "ord/$(printf '\\351')" "ord/$(printf '\\303\\251')"
      # ids beyond the ustar fields
      echo b > bigids; chown 3000000:4000000 bigids; echo c > bigids2; chown 4000000000:2097152 bigids2
      # xattrs: user (binary, escaped key), security.capability, trusted (not overlay), ACL, on dirs, symlinks, fifos
      setfattr -n user.hl -v linked hard
      setfattr -n user.foo -v bar keep/new.txt; setfattr -n user.raw -v 0xff00fe80 keep/new.txt
      setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= big.bin
      setfattr -n 'user.k%x' -v odd empty
      setfattr -n trusted.mine -v t wipe; setfattr -n user.dirx -v d keep
      setfattr -h -n trusted.sym -v s link; setfattr -n security.fifo -v f fifo
      acl=0sAgAAAAEABgD/////AgAHAHsAAAAEAAQA/////xAABwD/////IAAEAP////8=
      echo a > acl; setfattr -n system.posix_acl_access -v "$acl" acl
      setfattr -n system.posix_acl_default -v "$acl" hl
      setfattr -n user.big -v "0x$(head -c 900 /dev/zero | tr '\\0' 'a' | od -An -v -tx1 | tr -d ' \\n')" bigids
      # a socket (skipped by the export)
      python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' sock
      # times: nanoseconds, before 1970 (with a fraction), beyond the ustar field, symlinks, directories last
      touch -d '2021-02-03 04:05:06.123456789' keep/new.txt
      echo o > old1960; touch -d '1960-01-01 00:00:00.123456789' old1960
      echo j > justbefore; touch -d '1969-12-31 23:59:59' justbefore
      echo f > future; touch -d '2300-01-01 00:00:00.25' future
      touch -h -d '1950-06-01 12:00:00.5' link
      chmod 1777 wipe
      touch -d '2001-01-01 00:00:00.000000001' keep wipe deep/a
      """;

  /** A layer tar of the directory {@link #BASE} populated (top-level names without {@code ./}). */
  static byte[] baseTar(Path dir) throws IOException {
    Path out = java.nio.file.Files.createTempFile("base", ".tar");
    try {
      HostTools.check("bash", "-c", "cd \"$1\" && tar --numeric-owner -cf \"$2\" -- *", "base-tar", dir.toString(),
          out.toString());
      return java.nio.file.Files.readAllBytes(out);
    } finally {
      java.nio.file.Files.delete(out);
    }
  }

  /**
   * Run after {@link #BASE} and {@link #CHANGES} directly in a filesystem without {@code upper/} (a whole-filesystem
   * export): a whiteout and an opaque directory made by hand, and a {@code trusted.overlay.*} xattr to drop.
   */
  static final String WHOLE_FS = """
      set -e; cd "$1"
      mknod wh c 0 0; mkdir op; echo i > op/in
      setfattr -n trusted.overlay.opaque -v y op; setfattr -n trusted.overlay.origin -v x op/in
      """;

  /** Runs {@code script} with {@code dir} as {@code $1}. */
  static void run(String script, Path dir) throws IOException {
    HostTools.check("bash", "-c", script, "sandbox-cases", dir.toString());
  }
}
