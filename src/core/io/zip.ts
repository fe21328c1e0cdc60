/**
 * Reading zip files without trusting them: the central directory is read and checked first (entry
 * count, names, sizes, offsets inside the file), so that the caller can refuse a file by what it
 * declares before anything is inflated; each entry is then inflated with a cap of its declared
 * size (a 1.5 MB zip cannot inflate to 1.5 GB behind its directory's back). Stored and deflated
 * entries; no ZIP64, no encryption. Pure.
 */
import { InputError } from '../volume';
import { inflateCapped } from './binary';
import { checkInflatedSize, LIMITS } from './limits';

export interface ZipEntry {
  /** Path inside the zip. */
  path: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** Declared size once inflated. */
  size: number;
  /** Where its local header starts. */
  headerOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The entries the zip's central directory lists, every field checked against the file. */
export function zipDirectory(bytes: Uint8Array, name: string, maxEntries: number = LIMITS.maxSessionEntries): ZipEntry[] {
  const len = bytes.length;
  const v = new DataView(bytes.buffer, bytes.byteOffset, len);
  const notZip = (why: string): never => {
    throw new InputError(`${name}: not a zip file (${why})`);
  };
  if (len < 22) notZip(`${len} bytes`);
  // the end-of-central-directory record: 22 bytes plus a comment of at most 65535, at the end
  let eocd = -1;
  for (let p = len - 22; p >= Math.max(0, len - 22 - 65535); p--) {
    if (v.getUint32(p, true) === EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) notZip('no end-of-central-directory record; the file is cut short or not a zip');
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  const cdOffset = v.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) notZip('ZIP64 is not supported');
  if (count > maxEntries) throw new InputError(`${name}: the zip lists ${count} entries, more than the limit of ${maxEntries}`);
  if (cdOffset + cdSize > eocd) notZip(`its directory (${cdSize} bytes at byte ${cdOffset}) runs past its end record; the file is cut short or damaged`);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  const dec = new TextDecoder();
  for (let p = cdOffset, i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || v.getUint32(p, true) !== CENTRAL) notZip(`directory entry ${i + 1} is damaged`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const compressedSize = v.getUint32(p + 20, true);
    const size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const headerOffset = v.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) notZip(`directory entry ${i + 1} runs past the directory`);
    const path = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new InputError(`${name}: ${path} is encrypted`);
    if (seen.has(path)) throw new InputError(`${name}: ${path} is listed twice; the file is damaged`);
    seen.add(path);
    if (headerOffset + 30 + compressedSize > cdOffset) notZip(`${path} (${compressedSize} bytes at byte ${headerOffset}) runs into the directory; the file is damaged`);
    entries.push({ path, method, compressedSize, size, headerOffset });
    p = end;
  }
  return entries;
}

/** One entry's bytes: inflated with a cap of its declared size, which they must have exactly. */
export function readZipEntry(bytes: Uint8Array, e: ZipEntry, name: string): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const damaged = (why: string): never => {
    throw new InputError(`${name}: ${e.path} is damaged (${why})`);
  };
  if (e.headerOffset + 30 > bytes.length || v.getUint32(e.headerOffset, true) !== LOCAL) damaged('no local header where the directory says');
  const start = e.headerOffset + 30 + v.getUint16(e.headerOffset + 26, true) + v.getUint16(e.headerOffset + 28, true);
  if (start + e.compressedSize > bytes.length) damaged(`its ${e.compressedSize} bytes run past the end of the file`);
  const data = bytes.subarray(start, start + e.compressedSize);
  let out: Uint8Array;
  if (e.method === 0) out = data.slice();
  else if (e.method === 8) {
    checkInflatedSize(`${name}: ${e.path}`, e.size, e.compressedSize, 'the entry');
    out = e.size === 0 ? new Uint8Array(0) : inflateCapped('deflate', data, `${name}: ${e.path}`, { cap: e.size, what: 'the entry' });
  } else throw new InputError(`${name}: ${e.path} uses zip compression method ${e.method}; stored and deflated entries are read`);
  if (out.length !== e.size) damaged(`${out.length} bytes, its directory says ${e.size}`);
  return out;
}
