package io.lcowgd.svm.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/** The few Linux system calls the host backend needs, through JNA (errors arrive as {@link LastErrorException}). */
interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int O_RDONLY = 0;
  int O_RDWR = 2;
  int O_DIRECTORY = 0x10000;
  int O_CLOEXEC = 0x80000;

  int ENOENT = 2;
  int EBUSY = 16;
  int EINVAL = 22;
  int ENOSYS = 38;
  int EOPNOTSUPP = 95;
  int ENXIO = 6;

  long MS_RDONLY = 1;
  long MS_NOSUID = 2;
  long MS_REMOUNT = 32;
  long MS_BIND = 4096;
  long MS_PRIVATE = 1 << 18;

  int MNT_DETACH = 2;

  int open(String path, int flags) throws LastErrorException;

  int close(int fd) throws LastErrorException;

  int ioctl(int fd, NativeLong request, Pointer arg) throws LastErrorException;

  int ioctl(int fd, NativeLong request, NativeLong arg) throws LastErrorException;

  int mount(String source, String target, String fstype, NativeLong flags, String data) throws LastErrorException;

  int umount2(String target, int flags) throws LastErrorException;

  int syncfs(int fd) throws LastErrorException;

  int unshare(int flags) throws LastErrorException;

  int chdir(String path) throws LastErrorException;

  int CLONE_FS = 0x200;

  int mknod(String path, int mode, long dev) throws LastErrorException;

  String strerror(int errnum);

  /** syscall(2), for the new mount API (fsopen/fsconfig/fsmount/move_mount), which glibc 2.36 wraps but 2.31 not. */
  long syscall(long number, Object... args) throws LastErrorException;
}
