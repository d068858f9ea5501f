package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;
import java.util.EnumSet;

/**
 * The ext4 superblock ({@code struct ext4_super_block}), 1024 bytes at byte offset 1024 of the filesystem.
 *
 * <p>Pure record of the on-disk fields, no policy. Field names follow the kernel's ({@code s_inodes_count} becomes
 * {@code inodesCount}); u8/u16 fields are {@code int}, u32 fields are {@code long} holding the unsigned value, u64
 * fields are {@code long}. {@link #decode} and {@link #encode} cover every byte, so a decode/encode round trip is
 * byte-exact. Layout: <a href="https://docs.kernel.org/filesystems/ext4/super.html">kernel docs, super.html</a>.
 */
public final class Superblock {
  /** Size of the structure in bytes. */
  public static final int SIZE = 1024;
  /** Byte offset of the superblock from the start of the filesystem (block 0 holds it when the block size > 1024). */
  public static final long OFFSET = 1024;
  /** {@code EXT4_SUPER_MAGIC}. */
  public static final int MAGIC = 0xEF53;
  /** {@code s_state} bit: cleanly unmounted. */
  public static final int STATE_VALID = 1;
  /** {@code s_errors}: continue on errors. */
  public static final int ERRORS_CONTINUE = 1;
  /** {@code s_rev_level} of dynamic-revision filesystems (variable inode size, features). */
  public static final int REV_DYNAMIC = 1;
  /** {@code s_checksum_type} for crc32c. */
  public static final int CHECKSUM_TYPE_CRC32C = 1;
  /** {@code s_def_hash_version} values. */
  public static final int HASH_LEGACY = 0, HASH_HALF_MD4 = 1, HASH_TEA = 2;
  /** {@code s_flags} bits. */
  public static final int FLAG_SIGNED_HASH = 0x1, FLAG_UNSIGNED_HASH = 0x2, FLAG_TEST_FILESYS = 0x4;

  // Field offsets (ext4_super_block).
  public static final int S_INODES_COUNT = 0x00;
  public static final int S_BLOCKS_COUNT_LO = 0x04;
  public static final int S_R_BLOCKS_COUNT_LO = 0x08;
  public static final int S_FREE_BLOCKS_COUNT_LO = 0x0C;
  public static final int S_FREE_INODES_COUNT = 0x10;
  public static final int S_FIRST_DATA_BLOCK = 0x14;
  public static final int S_LOG_BLOCK_SIZE = 0x18;
  public static final int S_LOG_CLUSTER_SIZE = 0x1C;
  public static final int S_BLOCKS_PER_GROUP = 0x20;
  public static final int S_CLUSTERS_PER_GROUP = 0x24;
  public static final int S_INODES_PER_GROUP = 0x28;
  public static final int S_MTIME = 0x2C;
  public static final int S_WTIME = 0x30;
  public static final int S_MNT_COUNT = 0x34;
  public static final int S_MAX_MNT_COUNT = 0x36;
  public static final int S_MAGIC = 0x38;
  public static final int S_STATE = 0x3A;
  public static final int S_ERRORS = 0x3C;
  public static final int S_MINOR_REV_LEVEL = 0x3E;
  public static final int S_LASTCHECK = 0x40;
  public static final int S_CHECKINTERVAL = 0x44;
  public static final int S_CREATOR_OS = 0x48;
  public static final int S_REV_LEVEL = 0x4C;
  public static final int S_DEF_RESUID = 0x50;
  public static final int S_DEF_RESGID = 0x52;
  public static final int S_FIRST_INO = 0x54;
  public static final int S_INODE_SIZE = 0x58;
  public static final int S_BLOCK_GROUP_NR = 0x5A;
  public static final int S_FEATURE_COMPAT = 0x5C;
  public static final int S_FEATURE_INCOMPAT = 0x60;
  public static final int S_FEATURE_RO_COMPAT = 0x64;
  public static final int S_UUID = 0x68;
  public static final int S_VOLUME_NAME = 0x78;
  public static final int S_LAST_MOUNTED = 0x88;
  public static final int S_ALGORITHM_USAGE_BITMAP = 0xC8;
  public static final int S_PREALLOC_BLOCKS = 0xCC;
  public static final int S_PREALLOC_DIR_BLOCKS = 0xCD;
  public static final int S_RESERVED_GDT_BLOCKS = 0xCE;
  public static final int S_JOURNAL_UUID = 0xD0;
  public static final int S_JOURNAL_INUM = 0xE0;
  public static final int S_JOURNAL_DEV = 0xE4;
  public static final int S_LAST_ORPHAN = 0xE8;
  public static final int S_HASH_SEED = 0xEC;
  public static final int S_DEF_HASH_VERSION = 0xFC;
  public static final int S_JNL_BACKUP_TYPE = 0xFD;
  public static final int S_DESC_SIZE = 0xFE;
  public static final int S_DEFAULT_MOUNT_OPTS = 0x100;
  public static final int S_FIRST_META_BG = 0x104;
  public static final int S_MKFS_TIME = 0x108;
  public static final int S_JNL_BLOCKS = 0x10C;
  public static final int S_BLOCKS_COUNT_HI = 0x150;
  public static final int S_R_BLOCKS_COUNT_HI = 0x154;
  public static final int S_FREE_BLOCKS_COUNT_HI = 0x158;
  public static final int S_MIN_EXTRA_ISIZE = 0x15C;
  public static final int S_WANT_EXTRA_ISIZE = 0x15E;
  public static final int S_FLAGS = 0x160;
  public static final int S_RAID_STRIDE = 0x164;
  public static final int S_MMP_INTERVAL = 0x166;
  public static final int S_MMP_BLOCK = 0x168;
  public static final int S_RAID_STRIPE_WIDTH = 0x170;
  public static final int S_LOG_GROUPS_PER_FLEX = 0x174;
  public static final int S_CHECKSUM_TYPE = 0x175;
  public static final int S_ENCRYPTION_LEVEL = 0x176;
  public static final int S_RESERVED_PAD = 0x177;
  public static final int S_KBYTES_WRITTEN = 0x178;
  public static final int S_SNAPSHOT_INUM = 0x180;
  public static final int S_SNAPSHOT_ID = 0x184;
  public static final int S_SNAPSHOT_R_BLOCKS_COUNT = 0x188;
  public static final int S_SNAPSHOT_LIST = 0x190;
  public static final int S_ERROR_COUNT = 0x194;
  public static final int S_FIRST_ERROR_TIME = 0x198;
  public static final int S_FIRST_ERROR_INO = 0x19C;
  public static final int S_FIRST_ERROR_BLOCK = 0x1A0;
  public static final int S_FIRST_ERROR_FUNC = 0x1A8;
  public static final int S_FIRST_ERROR_LINE = 0x1C8;
  public static final int S_LAST_ERROR_TIME = 0x1CC;
  public static final int S_LAST_ERROR_INO = 0x1D0;
  public static final int S_LAST_ERROR_LINE = 0x1D4;
  public static final int S_LAST_ERROR_BLOCK = 0x1D8;
  public static final int S_LAST_ERROR_FUNC = 0x1E0;
  public static final int S_MOUNT_OPTS = 0x200;
  public static final int S_USR_QUOTA_INUM = 0x240;
  public static final int S_GRP_QUOTA_INUM = 0x244;
  public static final int S_OVERHEAD_CLUSTERS = 0x248;
  public static final int S_BACKUP_BGS = 0x24C;
  public static final int S_ENCRYPT_ALGOS = 0x254;
  public static final int S_ENCRYPT_PW_SALT = 0x258;
  public static final int S_LPF_INO = 0x268;
  public static final int S_PRJ_QUOTA_INUM = 0x26C;
  public static final int S_CHECKSUM_SEED = 0x270;
  public static final int S_WTIME_HI = 0x274;
  public static final int S_MTIME_HI = 0x275;
  public static final int S_MKFS_TIME_HI = 0x276;
  public static final int S_LASTCHECK_HI = 0x277;
  public static final int S_FIRST_ERROR_TIME_HI = 0x278;
  public static final int S_LAST_ERROR_TIME_HI = 0x279;
  public static final int S_FIRST_ERROR_ERRCODE = 0x27A;
  public static final int S_LAST_ERROR_ERRCODE = 0x27B;
  public static final int S_ENCODING = 0x27C;
  public static final int S_ENCODING_FLAGS = 0x27E;
  public static final int S_ORPHAN_FILE_INUM = 0x280;
  public static final int S_RESERVED = 0x284;
  /** Length of {@code s_reserved} (u32[94]). */
  public static final int S_RESERVED_LEN = 0x3FC - 0x284;
  public static final int S_CHECKSUM = 0x3FC;

  public long inodesCount;
  public long blocksCountLo;
  public long rBlocksCountLo;
  public long freeBlocksCountLo;
  public long freeInodesCount;
  public long firstDataBlock;
  public long logBlockSize;
  public long logClusterSize;
  public long blocksPerGroup;
  public long clustersPerGroup;
  public long inodesPerGroup;
  public long mtime;
  public long wtime;
  public int mntCount;
  public int maxMntCount;
  public int magic = MAGIC;
  public int state;
  public int errors;
  public int minorRevLevel;
  public long lastcheck;
  public long checkinterval;
  public long creatorOs;
  public long revLevel;
  public int defResuid;
  public int defResgid;
  public long firstIno;
  public int inodeSize;
  public int blockGroupNr;
  public long featureCompat;
  public long featureIncompat;
  public long featureRoCompat;
  public byte[] uuid = new byte[16];
  public byte[] volumeName = new byte[16];
  public byte[] lastMounted = new byte[64];
  public long algorithmUsageBitmap;
  public int preallocBlocks;
  public int preallocDirBlocks;
  public int reservedGdtBlocks;
  public byte[] journalUuid = new byte[16];
  public long journalInum;
  public long journalDev;
  public long lastOrphan;
  /** {@code s_hash_seed}: 16 bytes (u32[4]) kept raw. */
  public byte[] hashSeed = new byte[16];
  public int defHashVersion;
  public int jnlBackupType;
  public int descSize;
  public long defaultMountOpts;
  public long firstMetaBg;
  public long mkfsTime;
  /** {@code s_jnl_blocks}: u32[17] kept raw (68 bytes). */
  public byte[] jnlBlocks = new byte[68];
  public long blocksCountHi;
  public long rBlocksCountHi;
  public long freeBlocksCountHi;
  public int minExtraIsize;
  public int wantExtraIsize;
  public long flags;
  public int raidStride;
  public int mmpInterval;
  public long mmpBlock;
  public long raidStripeWidth;
  public int logGroupsPerFlex;
  public int checksumType;
  public int encryptionLevel;
  public int reservedPad;
  public long kbytesWritten;
  public long snapshotInum;
  public long snapshotId;
  public long snapshotRBlocksCount;
  public long snapshotList;
  public long errorCount;
  public long firstErrorTime;
  public long firstErrorIno;
  public long firstErrorBlock;
  public byte[] firstErrorFunc = new byte[32];
  public long firstErrorLine;
  public long lastErrorTime;
  public long lastErrorIno;
  public long lastErrorLine;
  public long lastErrorBlock;
  public byte[] lastErrorFunc = new byte[32];
  public byte[] mountOpts = new byte[64];
  public long usrQuotaInum;
  public long grpQuotaInum;
  public long overheadClusters;
  /** {@code s_backup_bgs[0]}, used with {@code SPARSE_SUPER2}. */
  public long backupBgs0;
  /** {@code s_backup_bgs[1]}, used with {@code SPARSE_SUPER2}. */
  public long backupBgs1;
  public byte[] encryptAlgos = new byte[4];
  public byte[] encryptPwSalt = new byte[16];
  public long lpfIno;
  public long prjQuotaInum;
  public long checksumSeed;
  public int wtimeHi;
  public int mtimeHi;
  public int mkfsTimeHi;
  public int lastcheckHi;
  public int firstErrorTimeHi;
  public int lastErrorTimeHi;
  public int firstErrorErrcode;
  public int lastErrorErrcode;
  public int encoding;
  public int encodingFlags;
  public long orphanFileInum;
  public byte[] reserved = new byte[S_RESERVED_LEN];
  public long checksum;

  /** Reads a superblock from {@code buf}'s position (1024 bytes) and advances the position. */
  public static Superblock decode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    Superblock s = new Superblock();
    s.inodesCount = Le.u32(b, S_INODES_COUNT);
    s.blocksCountLo = Le.u32(b, S_BLOCKS_COUNT_LO);
    s.rBlocksCountLo = Le.u32(b, S_R_BLOCKS_COUNT_LO);
    s.freeBlocksCountLo = Le.u32(b, S_FREE_BLOCKS_COUNT_LO);
    s.freeInodesCount = Le.u32(b, S_FREE_INODES_COUNT);
    s.firstDataBlock = Le.u32(b, S_FIRST_DATA_BLOCK);
    s.logBlockSize = Le.u32(b, S_LOG_BLOCK_SIZE);
    s.logClusterSize = Le.u32(b, S_LOG_CLUSTER_SIZE);
    s.blocksPerGroup = Le.u32(b, S_BLOCKS_PER_GROUP);
    s.clustersPerGroup = Le.u32(b, S_CLUSTERS_PER_GROUP);
    s.inodesPerGroup = Le.u32(b, S_INODES_PER_GROUP);
    s.mtime = Le.u32(b, S_MTIME);
    s.wtime = Le.u32(b, S_WTIME);
    s.mntCount = Le.u16(b, S_MNT_COUNT);
    s.maxMntCount = Le.u16(b, S_MAX_MNT_COUNT);
    s.magic = Le.u16(b, S_MAGIC);
    s.state = Le.u16(b, S_STATE);
    s.errors = Le.u16(b, S_ERRORS);
    s.minorRevLevel = Le.u16(b, S_MINOR_REV_LEVEL);
    s.lastcheck = Le.u32(b, S_LASTCHECK);
    s.checkinterval = Le.u32(b, S_CHECKINTERVAL);
    s.creatorOs = Le.u32(b, S_CREATOR_OS);
    s.revLevel = Le.u32(b, S_REV_LEVEL);
    s.defResuid = Le.u16(b, S_DEF_RESUID);
    s.defResgid = Le.u16(b, S_DEF_RESGID);
    s.firstIno = Le.u32(b, S_FIRST_INO);
    s.inodeSize = Le.u16(b, S_INODE_SIZE);
    s.blockGroupNr = Le.u16(b, S_BLOCK_GROUP_NR);
    s.featureCompat = Le.u32(b, S_FEATURE_COMPAT);
    s.featureIncompat = Le.u32(b, S_FEATURE_INCOMPAT);
    s.featureRoCompat = Le.u32(b, S_FEATURE_RO_COMPAT);
    s.uuid = Le.bytes(b, S_UUID, 16);
    s.volumeName = Le.bytes(b, S_VOLUME_NAME, 16);
    s.lastMounted = Le.bytes(b, S_LAST_MOUNTED, 64);
    s.algorithmUsageBitmap = Le.u32(b, S_ALGORITHM_USAGE_BITMAP);
    s.preallocBlocks = Le.u8(b, S_PREALLOC_BLOCKS);
    s.preallocDirBlocks = Le.u8(b, S_PREALLOC_DIR_BLOCKS);
    s.reservedGdtBlocks = Le.u16(b, S_RESERVED_GDT_BLOCKS);
    s.journalUuid = Le.bytes(b, S_JOURNAL_UUID, 16);
    s.journalInum = Le.u32(b, S_JOURNAL_INUM);
    s.journalDev = Le.u32(b, S_JOURNAL_DEV);
    s.lastOrphan = Le.u32(b, S_LAST_ORPHAN);
    s.hashSeed = Le.bytes(b, S_HASH_SEED, 16);
    s.defHashVersion = Le.u8(b, S_DEF_HASH_VERSION);
    s.jnlBackupType = Le.u8(b, S_JNL_BACKUP_TYPE);
    s.descSize = Le.u16(b, S_DESC_SIZE);
    s.defaultMountOpts = Le.u32(b, S_DEFAULT_MOUNT_OPTS);
    s.firstMetaBg = Le.u32(b, S_FIRST_META_BG);
    s.mkfsTime = Le.u32(b, S_MKFS_TIME);
    s.jnlBlocks = Le.bytes(b, S_JNL_BLOCKS, 68);
    s.blocksCountHi = Le.u32(b, S_BLOCKS_COUNT_HI);
    s.rBlocksCountHi = Le.u32(b, S_R_BLOCKS_COUNT_HI);
    s.freeBlocksCountHi = Le.u32(b, S_FREE_BLOCKS_COUNT_HI);
    s.minExtraIsize = Le.u16(b, S_MIN_EXTRA_ISIZE);
    s.wantExtraIsize = Le.u16(b, S_WANT_EXTRA_ISIZE);
    s.flags = Le.u32(b, S_FLAGS);
    s.raidStride = Le.u16(b, S_RAID_STRIDE);
    s.mmpInterval = Le.u16(b, S_MMP_INTERVAL);
    s.mmpBlock = Le.u64(b, S_MMP_BLOCK);
    s.raidStripeWidth = Le.u32(b, S_RAID_STRIPE_WIDTH);
    s.logGroupsPerFlex = Le.u8(b, S_LOG_GROUPS_PER_FLEX);
    s.checksumType = Le.u8(b, S_CHECKSUM_TYPE);
    s.encryptionLevel = Le.u8(b, S_ENCRYPTION_LEVEL);
    s.reservedPad = Le.u8(b, S_RESERVED_PAD);
    s.kbytesWritten = Le.u64(b, S_KBYTES_WRITTEN);
    s.snapshotInum = Le.u32(b, S_SNAPSHOT_INUM);
    s.snapshotId = Le.u32(b, S_SNAPSHOT_ID);
    s.snapshotRBlocksCount = Le.u64(b, S_SNAPSHOT_R_BLOCKS_COUNT);
    s.snapshotList = Le.u32(b, S_SNAPSHOT_LIST);
    s.errorCount = Le.u32(b, S_ERROR_COUNT);
    s.firstErrorTime = Le.u32(b, S_FIRST_ERROR_TIME);
    s.firstErrorIno = Le.u32(b, S_FIRST_ERROR_INO);
    s.firstErrorBlock = Le.u64(b, S_FIRST_ERROR_BLOCK);
    s.firstErrorFunc = Le.bytes(b, S_FIRST_ERROR_FUNC, 32);
    s.firstErrorLine = Le.u32(b, S_FIRST_ERROR_LINE);
    s.lastErrorTime = Le.u32(b, S_LAST_ERROR_TIME);
    s.lastErrorIno = Le.u32(b, S_LAST_ERROR_INO);
    s.lastErrorLine = Le.u32(b, S_LAST_ERROR_LINE);
    s.lastErrorBlock = Le.u64(b, S_LAST_ERROR_BLOCK);
    s.lastErrorFunc = Le.bytes(b, S_LAST_ERROR_FUNC, 32);
    s.mountOpts = Le.bytes(b, S_MOUNT_OPTS, 64);
    s.usrQuotaInum = Le.u32(b, S_USR_QUOTA_INUM);
    s.grpQuotaInum = Le.u32(b, S_GRP_QUOTA_INUM);
    s.overheadClusters = Le.u32(b, S_OVERHEAD_CLUSTERS);
    s.backupBgs0 = Le.u32(b, S_BACKUP_BGS);
    s.backupBgs1 = Le.u32(b, S_BACKUP_BGS + 4);
    s.encryptAlgos = Le.bytes(b, S_ENCRYPT_ALGOS, 4);
    s.encryptPwSalt = Le.bytes(b, S_ENCRYPT_PW_SALT, 16);
    s.lpfIno = Le.u32(b, S_LPF_INO);
    s.prjQuotaInum = Le.u32(b, S_PRJ_QUOTA_INUM);
    s.checksumSeed = Le.u32(b, S_CHECKSUM_SEED);
    s.wtimeHi = Le.u8(b, S_WTIME_HI);
    s.mtimeHi = Le.u8(b, S_MTIME_HI);
    s.mkfsTimeHi = Le.u8(b, S_MKFS_TIME_HI);
    s.lastcheckHi = Le.u8(b, S_LASTCHECK_HI);
    s.firstErrorTimeHi = Le.u8(b, S_FIRST_ERROR_TIME_HI);
    s.lastErrorTimeHi = Le.u8(b, S_LAST_ERROR_TIME_HI);
    s.firstErrorErrcode = Le.u8(b, S_FIRST_ERROR_ERRCODE);
    s.lastErrorErrcode = Le.u8(b, S_LAST_ERROR_ERRCODE);
    s.encoding = Le.u16(b, S_ENCODING);
    s.encodingFlags = Le.u16(b, S_ENCODING_FLAGS);
    s.orphanFileInum = Le.u32(b, S_ORPHAN_FILE_INUM);
    s.reserved = Le.bytes(b, S_RESERVED, S_RESERVED_LEN);
    s.checksum = Le.u32(b, S_CHECKSUM);
    return s;
  }

  /** Writes all 1024 bytes at {@code buf}'s position and advances it; {@link #checksum} is written as stored. */
  public void encode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    Le.put32(b, S_INODES_COUNT, inodesCount);
    Le.put32(b, S_BLOCKS_COUNT_LO, blocksCountLo);
    Le.put32(b, S_R_BLOCKS_COUNT_LO, rBlocksCountLo);
    Le.put32(b, S_FREE_BLOCKS_COUNT_LO, freeBlocksCountLo);
    Le.put32(b, S_FREE_INODES_COUNT, freeInodesCount);
    Le.put32(b, S_FIRST_DATA_BLOCK, firstDataBlock);
    Le.put32(b, S_LOG_BLOCK_SIZE, logBlockSize);
    Le.put32(b, S_LOG_CLUSTER_SIZE, logClusterSize);
    Le.put32(b, S_BLOCKS_PER_GROUP, blocksPerGroup);
    Le.put32(b, S_CLUSTERS_PER_GROUP, clustersPerGroup);
    Le.put32(b, S_INODES_PER_GROUP, inodesPerGroup);
    Le.put32(b, S_MTIME, mtime);
    Le.put32(b, S_WTIME, wtime);
    Le.put16(b, S_MNT_COUNT, mntCount);
    Le.put16(b, S_MAX_MNT_COUNT, maxMntCount);
    Le.put16(b, S_MAGIC, magic);
    Le.put16(b, S_STATE, state);
    Le.put16(b, S_ERRORS, errors);
    Le.put16(b, S_MINOR_REV_LEVEL, minorRevLevel);
    Le.put32(b, S_LASTCHECK, lastcheck);
    Le.put32(b, S_CHECKINTERVAL, checkinterval);
    Le.put32(b, S_CREATOR_OS, creatorOs);
    Le.put32(b, S_REV_LEVEL, revLevel);
    Le.put16(b, S_DEF_RESUID, defResuid);
    Le.put16(b, S_DEF_RESGID, defResgid);
    Le.put32(b, S_FIRST_INO, firstIno);
    Le.put16(b, S_INODE_SIZE, inodeSize);
    Le.put16(b, S_BLOCK_GROUP_NR, blockGroupNr);
    Le.put32(b, S_FEATURE_COMPAT, featureCompat);
    Le.put32(b, S_FEATURE_INCOMPAT, featureIncompat);
    Le.put32(b, S_FEATURE_RO_COMPAT, featureRoCompat);
    Le.putBytes(b, S_UUID, uuid, 16);
    Le.putBytes(b, S_VOLUME_NAME, volumeName, 16);
    Le.putBytes(b, S_LAST_MOUNTED, lastMounted, 64);
    Le.put32(b, S_ALGORITHM_USAGE_BITMAP, algorithmUsageBitmap);
    Le.put8(b, S_PREALLOC_BLOCKS, preallocBlocks);
    Le.put8(b, S_PREALLOC_DIR_BLOCKS, preallocDirBlocks);
    Le.put16(b, S_RESERVED_GDT_BLOCKS, reservedGdtBlocks);
    Le.putBytes(b, S_JOURNAL_UUID, journalUuid, 16);
    Le.put32(b, S_JOURNAL_INUM, journalInum);
    Le.put32(b, S_JOURNAL_DEV, journalDev);
    Le.put32(b, S_LAST_ORPHAN, lastOrphan);
    Le.putBytes(b, S_HASH_SEED, hashSeed, 16);
    Le.put8(b, S_DEF_HASH_VERSION, defHashVersion);
    Le.put8(b, S_JNL_BACKUP_TYPE, jnlBackupType);
    Le.put16(b, S_DESC_SIZE, descSize);
    Le.put32(b, S_DEFAULT_MOUNT_OPTS, defaultMountOpts);
    Le.put32(b, S_FIRST_META_BG, firstMetaBg);
    Le.put32(b, S_MKFS_TIME, mkfsTime);
    Le.putBytes(b, S_JNL_BLOCKS, jnlBlocks, 68);
    Le.put32(b, S_BLOCKS_COUNT_HI, blocksCountHi);
    Le.put32(b, S_R_BLOCKS_COUNT_HI, rBlocksCountHi);
    Le.put32(b, S_FREE_BLOCKS_COUNT_HI, freeBlocksCountHi);
    Le.put16(b, S_MIN_EXTRA_ISIZE, minExtraIsize);
    Le.put16(b, S_WANT_EXTRA_ISIZE, wantExtraIsize);
    Le.put32(b, S_FLAGS, flags);
    Le.put16(b, S_RAID_STRIDE, raidStride);
    Le.put16(b, S_MMP_INTERVAL, mmpInterval);
    Le.put64(b, S_MMP_BLOCK, mmpBlock);
    Le.put32(b, S_RAID_STRIPE_WIDTH, raidStripeWidth);
    Le.put8(b, S_LOG_GROUPS_PER_FLEX, logGroupsPerFlex);
    Le.put8(b, S_CHECKSUM_TYPE, checksumType);
    Le.put8(b, S_ENCRYPTION_LEVEL, encryptionLevel);
    Le.put8(b, S_RESERVED_PAD, reservedPad);
    Le.put64(b, S_KBYTES_WRITTEN, kbytesWritten);
    Le.put32(b, S_SNAPSHOT_INUM, snapshotInum);
    Le.put32(b, S_SNAPSHOT_ID, snapshotId);
    Le.put64(b, S_SNAPSHOT_R_BLOCKS_COUNT, snapshotRBlocksCount);
    Le.put32(b, S_SNAPSHOT_LIST, snapshotList);
    Le.put32(b, S_ERROR_COUNT, errorCount);
    Le.put32(b, S_FIRST_ERROR_TIME, firstErrorTime);
    Le.put32(b, S_FIRST_ERROR_INO, firstErrorIno);
    Le.put64(b, S_FIRST_ERROR_BLOCK, firstErrorBlock);
    Le.putBytes(b, S_FIRST_ERROR_FUNC, firstErrorFunc, 32);
    Le.put32(b, S_FIRST_ERROR_LINE, firstErrorLine);
    Le.put32(b, S_LAST_ERROR_TIME, lastErrorTime);
    Le.put32(b, S_LAST_ERROR_INO, lastErrorIno);
    Le.put32(b, S_LAST_ERROR_LINE, lastErrorLine);
    Le.put64(b, S_LAST_ERROR_BLOCK, lastErrorBlock);
    Le.putBytes(b, S_LAST_ERROR_FUNC, lastErrorFunc, 32);
    Le.putBytes(b, S_MOUNT_OPTS, mountOpts, 64);
    Le.put32(b, S_USR_QUOTA_INUM, usrQuotaInum);
    Le.put32(b, S_GRP_QUOTA_INUM, grpQuotaInum);
    Le.put32(b, S_OVERHEAD_CLUSTERS, overheadClusters);
    Le.put32(b, S_BACKUP_BGS, backupBgs0);
    Le.put32(b, S_BACKUP_BGS + 4, backupBgs1);
    Le.putBytes(b, S_ENCRYPT_ALGOS, encryptAlgos, 4);
    Le.putBytes(b, S_ENCRYPT_PW_SALT, encryptPwSalt, 16);
    Le.put32(b, S_LPF_INO, lpfIno);
    Le.put32(b, S_PRJ_QUOTA_INUM, prjQuotaInum);
    Le.put32(b, S_CHECKSUM_SEED, checksumSeed);
    Le.put8(b, S_WTIME_HI, wtimeHi);
    Le.put8(b, S_MTIME_HI, mtimeHi);
    Le.put8(b, S_MKFS_TIME_HI, mkfsTimeHi);
    Le.put8(b, S_LASTCHECK_HI, lastcheckHi);
    Le.put8(b, S_FIRST_ERROR_TIME_HI, firstErrorTimeHi);
    Le.put8(b, S_LAST_ERROR_TIME_HI, lastErrorTimeHi);
    Le.put8(b, S_FIRST_ERROR_ERRCODE, firstErrorErrcode);
    Le.put8(b, S_LAST_ERROR_ERRCODE, lastErrorErrcode);
    Le.put16(b, S_ENCODING, encoding);
    Le.put16(b, S_ENCODING_FLAGS, encodingFlags);
    Le.put32(b, S_ORPHAN_FILE_INUM, orphanFileInum);
    Le.putBytes(b, S_RESERVED, reserved, S_RESERVED_LEN);
    Le.put32(b, S_CHECKSUM, checksum);
  }

  /** The block size in bytes: {@code 1024 << s_log_block_size}. */
  public int blockSize() {
    return 1024 << logBlockSize;
  }

  /** The total block count, including {@code s_blocks_count_hi} when the {@code 64bit} feature is set. */
  public long blocksCount() {
    return has(IncompatFeature.BIT64) ? blocksCountLo | blocksCountHi << 32 : blocksCountLo;
  }

  /** The free block count, including the high word when the {@code 64bit} feature is set. */
  public long freeBlocksCount() {
    return has(IncompatFeature.BIT64) ? freeBlocksCountLo | freeBlocksCountHi << 32 : freeBlocksCountLo;
  }

  /** The reserved block count, including the high word when the {@code 64bit} feature is set. */
  public long rBlocksCount() {
    return has(IncompatFeature.BIT64) ? rBlocksCountLo | rBlocksCountHi << 32 : rBlocksCountLo;
  }

  /** Number of block groups: {@code ceil((blocksCount - firstDataBlock) / blocksPerGroup)}. */
  public long groupCount() {
    return (blocksCount() - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup;
  }

  /** The group descriptor size in bytes: {@code s_desc_size} with {@code 64bit}, otherwise 32. */
  public int groupDescriptorSize() {
    return has(IncompatFeature.BIT64) && descSize >= GroupDescriptor.SIZE_64 ? descSize : GroupDescriptor.SIZE_32;
  }

  public EnumSet<CompatFeature> compatFeatures() {
    return Flag.decode(CompatFeature.class, (int) featureCompat);
  }

  public EnumSet<IncompatFeature> incompatFeatures() {
    return Flag.decode(IncompatFeature.class, (int) featureIncompat);
  }

  public EnumSet<RoCompatFeature> roCompatFeatures() {
    return Flag.decode(RoCompatFeature.class, (int) featureRoCompat);
  }

  public boolean has(CompatFeature f) {
    return (featureCompat & f.mask()) != 0;
  }

  public boolean has(IncompatFeature f) {
    return (featureIncompat & f.mask()) != 0;
  }

  public boolean has(RoCompatFeature f) {
    return (featureRoCompat & f.mask()) != 0;
  }

  /** Feature bits outside the known enum constants, as {compat, incompat, ro_compat}. */
  public long[] unknownFeatureBits() {
    return new long[] {
      featureCompat & ~Flag.encode(compatFeatures()) & 0xFFFF_FFFFL,
      featureIncompat & ~Flag.encode(incompatFeatures()) & 0xFFFF_FFFFL,
      featureRoCompat & ~Flag.encode(roCompatFeatures()) & 0xFFFF_FFFFL
    };
  }
}
