package io.lcowgd.posix;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * The project's one JNA binding of the Linux libc calls the JDK lacks (cloning, sparse and positional I/O, loop
 * devices, mounts, signals); a failed call throws {@link LastErrorException} carrying errno. Constants are
 * x86-64/arm64 Linux.
 */
public interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int O_RDONLY = 0;
  int O_WRONLY = 1;
  int O_RDWR = 2;
  int O_CREAT = 0100;
  int O_EXCL = 0200;
  int O_DIRECTORY = 0200000;
  int O_CLOEXEC = 02000000;

  int SYNC_FILE_RANGE_WRITE = 2;

  int SEEK_END = 2;
  int SEEK_DATA = 3;
  int SEEK_HOLE = 4;

  int ENOENT = 2;
  int ESRCH = 3;
  int ENXIO = 6;
  int EBUSY = 16;
  int EINVAL = 22;
  int ENOSYS = 38;
  int EOPNOTSUPP = 95;

  /** {@code _IOW(0x94, 9, int)}: share the source's extents with the destination (btrfs, XFS, bcachefs...). */
  long FICLONE = 0x40049409L;

  long MS_RDONLY = 1;
  long MS_NOSUID = 2;
  long MS_REMOUNT = 32;
  long MS_BIND = 4096;
  long MS_PRIVATE = 1 << 18;

  int MNT_DETACH = 2;

  int CLONE_FS = 0x200;

  int SIGKILL = 9;

  int open(String path, int flags, int mode) throws LastErrorException;

  int close(int fd) throws LastErrorException;

  long lseek(int fd, long offset, int whence) throws LastErrorException;

  int ioctl(int fd, NativeLong request, int arg) throws LastErrorException;

  int ioctl(int fd, NativeLong request, Pointer arg) throws LastErrorException;

  int ioctl(int fd, NativeLong request, NativeLong arg) throws LastErrorException;

  NativeLong pread(int fd, Pointer buf, NativeLong count, long offset) throws LastErrorException;

  NativeLong pwrite(int fd, Pointer buf, NativeLong count, long offset) throws LastErrorException;

  int ftruncate(int fd, long length) throws LastErrorException;

  int mount(String source, String target, String fstype, NativeLong flags, String data) throws LastErrorException;

  int umount2(String target, int flags) throws LastErrorException;

  int syncfs(int fd) throws LastErrorException;

  /** {@code flags} e.g. {@link #SYNC_FILE_RANGE_WRITE}: queue the range's dirty pages for write-out, without waiting. */
  int sync_file_range(int fd, long offset, long nbytes, int flags) throws LastErrorException;

  int unshare(int flags) throws LastErrorException;

  int chdir(String path) throws LastErrorException;

  /** {@code mode} includes the file type bits; {@code dev} is the kernel's encoded device number. */
  int mknod(String path, int mode, long dev) throws LastErrorException;

  /** {@code pid} below -1 signals every process of group {@code -pid}. */
  int kill(int pid, int sig) throws LastErrorException;

  String strerror(int errnum);

  /** syscall(2), for the new mount API (fsopen/fsconfig/fsmount/move_mount), which glibc 2.36 wraps but 2.31 not. */
  long syscall(long number, Object... args) throws LastErrorException;
}
