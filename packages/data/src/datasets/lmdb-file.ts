/**
 * A read-only reader of LMDB data files in data format 1, the format of LMDB 0.9 (OpenLDAP),
 * which python-lmdb writes and in which LSUN is distributed. The prebuilt `lmdb` npm package
 * reads only its own format 2 (and crashes the process on a format-1 file), so `lsun` reads
 * format-1 files here and leaves format-2 files to that package.
 *
 * Layout of a 64-bit little-endian `data.mdb` (LMDB 0.9 `mdb.c`), in `pageSize` pages:
 * - page header (16 bytes): pgno u64, pad u16, flags u16 (1 branch, 2 leaf, 4 overflow,
 *   8 meta), lower u16 and upper u16 (or, on an overflow page, the page count u32); then the
 *   u16 offsets of the page's nodes, from the page start.
 * - pages 0 and 1 are meta pages: at byte 16, magic u32 0xBEEFC0DE, version u32, address,
 *   mapsize, then two 48-byte database records (free pages, main): pad u32 (the page size in
 *   the free-pages record), flags u16, depth u16, branch, leaf and overflow page counts,
 *   entries, root pgno (u64 each); then last pgno and txnid. The meta with the larger txnid
 *   is the current one.
 * - a node: lo u16, hi u16, flags u16, key size u16, key bytes, then data. In a branch node
 *   lo | hi << 16 | flags << 32 is the child pgno; in a leaf node lo | hi << 16 is the data
 *   size, and with flag 1 (big data) the data is a u64 pgno of overflow pages holding it
 *   after their page header.
 */
import * as fs from 'node:fs';

const MAGIC = 0xbeefc0de;
const HEADER = 16;
const NODE = 8;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const F_BIGDATA = 0x01;

/** Where one value lies in the file. */
export interface LmdbValueRef {
  key: Buffer;
  offset: number;
  length: number;
}

/** The data-format version of an LMDB file (1: LMDB 0.9; 2: LMDB 1.0 / the `lmdb` package). */
export function lmdbFormatVersion(file: string): number | undefined {
  const head = Buffer.alloc(32);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 32, 0);
  } finally {
    fs.closeSync(fd);
  }
  // Format 1 keeps the meta record at byte 16; format 2's page header is 8 bytes longer.
  for (const at of [16, 24]) {
    if (head.readUInt32LE(at) === MAGIC) return head.readUInt32LE(at + 4);
  }
  return undefined;
}

function u64(page: Buffer, at: number): number {
  return Number(page.readBigUInt64LE(at));
}

/** Read-only access to the main database of a format-1 LMDB file, in key order. */
export class LmdbFile {
  readonly file: string;
  readonly pageSize: number;
  readonly entries: number;
  private readonly fd: number;
  private readonly root: number;

  constructor(file: string) {
    this.file = file;
    this.fd = fs.openSync(file, 'r');
    const meta0 = Buffer.alloc(HEADER + 136);
    fs.readSync(this.fd, meta0, 0, meta0.length, 0);
    if (meta0.readUInt32LE(HEADER) !== MAGIC || meta0.readUInt32LE(HEADER + 4) !== 1) {
      fs.closeSync(this.fd);
      throw new Error('not an LMDB data-format-1 file (bad magic or version in meta page 0)');
    }
    this.pageSize = meta0.readUInt32LE(HEADER + 24);
    if (!(
      this.pageSize >= 512 &&
      this.pageSize <= 65536 &&
      (this.pageSize & (this.pageSize - 1)) === 0
    )) {
      fs.closeSync(this.fd);
      throw new Error(`corrupt LMDB file: page size ${this.pageSize} in meta page 0`);
    }
    const meta1 = Buffer.alloc(HEADER + 136);
    fs.readSync(this.fd, meta1, 0, meta1.length, this.pageSize);
    const txnid = (m: Buffer) => (m.readUInt32LE(HEADER) === MAGIC ? u64(m, HEADER + 128) : -1);
    const meta = txnid(meta1) > txnid(meta0) ? meta1 : meta0;
    this.entries = u64(meta, HEADER + 104);
    const root = meta.readBigUInt64LE(HEADER + 112);
    this.root = root === 0xffffffffffffffffn ? -1 : Number(root);
  }

  private page(pgno: number): Buffer {
    const page = Buffer.alloc(this.pageSize);
    const read = fs.readSync(this.fd, page, 0, this.pageSize, pgno * this.pageSize);
    if (read < this.pageSize) {
      throw new Error(`truncated LMDB file: page ${pgno} ends past the end of the file`);
    }
    return page;
  }

  /** Every key of the main database in key order, with where its value is (up to `limit`). */
  refs(limit = Infinity): LmdbValueRef[] {
    const out: LmdbValueRef[] = [];
    const visit = (pgno: number, depth: number) => {
      if (depth > 64) throw new Error('corrupt LMDB file: the tree is deeper than 64 levels');
      const page = this.page(pgno);
      const flags = page.readUInt16LE(10);
      const count = (page.readUInt16LE(12) - HEADER) >> 1;
      for (let i = 0; i < count && out.length < limit; i++) {
        const at = page.readUInt16LE(HEADER + 2 * i);
        const lo = page.readUInt16LE(at);
        const hi = page.readUInt16LE(at + 2);
        const nodeFlags = page.readUInt16LE(at + 4);
        const keySize = page.readUInt16LE(at + 6);
        if (flags & P_BRANCH) {
          visit(lo + hi * 0x10000 + nodeFlags * 0x100000000, depth + 1);
          continue;
        }
        if (!(flags & P_LEAF))
          throw new Error(`corrupt LMDB file: page ${pgno} is not a tree page`);
        const key = Buffer.from(page.subarray(at + NODE, at + NODE + keySize));
        const length = lo + hi * 0x10000;
        const dataAt = at + NODE + keySize;
        const offset =
          nodeFlags & F_BIGDATA
            ? u64(page, dataAt) * this.pageSize + HEADER
            : pgno * this.pageSize + dataAt;
        out.push({ key, offset, length });
      }
    };
    if (this.root >= 0) visit(this.root, 0);
    return out;
  }

  /** The bytes of one value. */
  read(ref: LmdbValueRef): Buffer {
    const out = Buffer.alloc(ref.length);
    const read = fs.readSync(this.fd, out, 0, ref.length, ref.offset);
    if (read < ref.length)
      throw new Error(`truncated LMDB file: value of ${ref.length} bytes cut at ${read}`);
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
