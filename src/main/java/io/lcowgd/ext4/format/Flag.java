package io.lcowgd.ext4.format;

import java.util.EnumSet;
import java.util.Set;

/**
 * A single bit of an on-disk ext4 flag word; each flag family (compat, incompat, ro_compat, inode flags) is its own
 * enum implementing this interface so flags of different families cannot be mixed.
 */
public interface Flag {

  /** The bit mask of this flag in its word. */
  int mask();

  /** The flags of {@code type} whose bits are set in {@code word}; bits without an enum constant are ignored. */
  static <E extends Enum<E> & Flag> EnumSet<E> decode(Class<E> type, int word) {
    EnumSet<E> set = EnumSet.noneOf(type);
    for (E e : type.getEnumConstants()) {
      if ((word & e.mask()) != 0) {
        set.add(e);
      }
    }
    return set;
  }

  /** The word with exactly the bits of {@code flags} set. */
  static int encode(Set<? extends Flag> flags) {
    int word = 0;
    for (Flag f : flags) {
      word |= f.mask();
    }
    return word;
  }
}
