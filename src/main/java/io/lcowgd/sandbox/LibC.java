package io.lcowgd.sandbox;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/** The few libc calls the JDK lacks: FICLONE, SEEK_DATA/SEEK_HOLE, positional I/O on raw descriptors (Linux). */
interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int O_RDONLY = 0;
  int O_WRONLY = 1;
  int O_CREAT = 0100;
  int O_EXCL = 0200;
  int O_CLOEXEC = 02000000;
  int SEEK_END = 2;
  int SEEK_DATA = 3;
  int SEEK_HOLE = 4;
  /** {@code _IOW(0x94, 9, int)}: share the source's extents with the destination (btrfs, XFS, bcachefs...). */
  long FICLONE = 0x40049409L;
  int ENXIO = 6;

  int open(String path, int flags, int mode) throws LastErrorException;

  int close(int fd) throws LastErrorException;

  long lseek(int fd, long offset, int whence) throws LastErrorException;

  int ioctl(int fd, NativeLong request, int arg) throws LastErrorException;

  NativeLong pread(int fd, Pointer buf, NativeLong count, long offset) throws LastErrorException;

  NativeLong pwrite(int fd, Pointer buf, NativeLong count, long offset) throws LastErrorException;

  int ftruncate(int fd, long length) throws LastErrorException;

}
