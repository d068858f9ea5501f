package io.lcowgd.convert;

/**
 * What a conversion produced.
 *
 * @param contentSize sum of the tar entries' sizes (logical sizes for sparse files), as moby's {@code UnpackLayer}
 *     counts them: the size {@code ApplyDiff} returns to dockerd
 * @param imageSize size of the output file in bytes: the ext4 image, or with the VHD footer the payload (the ext4
 *     image zero-padded to a size CHS geometry describes exactly) plus the 512-byte footer
 * @param ext4Size size of the ext4 filesystem alone
 * @param entries number of tar entries read (PAX/GNU extension headers not counted)
 * @param tarBytes bytes read from the input, including trailing bytes after the end-of-archive marker
 */
public record ConvertResult(long contentSize, long imageSize, long ext4Size, long entries, long tarBytes) {}
