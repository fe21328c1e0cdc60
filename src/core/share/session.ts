/**
 * Session files (.vbsession, a zip): one file that restores a page exactly, results included,
 * without running anything again. Pure (fflate), so Node tests read what the browser writes.
 *
 * Layout:
 *   session.json        { format: "voxelbench-session", version: 1, preset, createdAt, link?, state, files }
 *   <any other path>    bytes the preset's state refers to by path (models, volumes, result arrays)
 *
 * `state` is the preset's own JSON (see src/ui/share/types.ts); `files` lists every other entry
 * with its size, so a damaged or cut-off file is named on opening. Typed arrays are stored
 * little-endian as they are in memory (tensorEntry/readTensor).
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';

export const SESSION_FORMAT = 'voxelbench-session';
export const SESSION_VERSION = 1;
export const SESSION_EXT = '.vbsession';

export interface SessionManifest<S = unknown> {
  format: typeof SESSION_FORMAT;
  version: number;
  /** Page id (src/ui/presets.ts). */
  preset: string;
  createdAt: string;
  /** The share link of the same state, when it had one (inputs from URLs or a demo). */
  link?: string;
  state: S;
  files: { path: string; bytes: number }[];
}

export interface SessionContent<S = unknown> {
  preset: string;
  state: S;
  files: Map<string, Uint8Array>;
  link?: string;
}

/** Writes the zip. Compressed lightly: models and volumes are often compressed already. */
export function writeSession<S>(c: SessionContent<S>, createdAt = new Date().toISOString()): Uint8Array {
  const manifest: SessionManifest<S> = {
    format: SESSION_FORMAT,
    version: SESSION_VERSION,
    preset: c.preset,
    createdAt,
    ...(c.link ? { link: c.link } : {}),
    state: c.state,
    files: [...c.files].map(([path, b]) => ({ path, bytes: b.byteLength })),
  };
  const zip: Zippable = { 'session.json': [strToU8(JSON.stringify(manifest, null, 1)), { level: 6 }] };
  for (const [path, b] of c.files) {
    if (path === 'session.json') throw new Error('session: "session.json" is reserved');
    zip[path] = [b, { level: 1 }];
  }
  return zipSync(zip, { mtime: new Date(createdAt) });
}

/** Reads a session file; throws an Error naming the file and what is wrong. */
export function readSession(bytes: Uint8Array, name = 'session'): SessionContent & { manifest: SessionManifest; createdAt: string } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new Error(`${name}: not a Voxelbench session (not a zip file: ${(e as Error).message})`, { cause: e });
  }
  const json = entries['session.json'];
  if (!json) throw new Error(`${name}: not a Voxelbench session (no session.json inside)`);
  let m: SessionManifest;
  try {
    m = JSON.parse(strFromU8(json)) as SessionManifest;
  } catch (e) {
    throw new Error(`${name}: session.json is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (m?.format !== SESSION_FORMAT) throw new Error(`${name}: not a Voxelbench session (format "${String(m?.format)}")`);
  if (typeof m.version !== 'number' || m.version > SESSION_VERSION) {
    throw new Error(`${name}: session version ${String(m.version)} was written by a newer Voxelbench; this one reads version ${SESSION_VERSION}`);
  }
  if (typeof m.preset !== 'string') throw new Error(`${name}: session.json names no page (preset)`);
  const files = new Map<string, Uint8Array>();
  for (const f of m.files ?? []) {
    const b = entries[f.path];
    if (!b) throw new Error(`${name}: ${f.path} is missing from the session file`);
    if (b.byteLength !== f.bytes) throw new Error(`${name}: ${f.path} has ${b.byteLength} bytes, session.json says ${f.bytes}`);
    files.set(f.path, b);
  }
  return { manifest: m, preset: m.preset, state: m.state, files, createdAt: m.createdAt, ...(m.link ? { link: m.link } : {}) };
}

export type TensorArray = Float32Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Float64Array | Int8Array | Uint32Array;

const CTORS = { Float32Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Float64Array, Int8Array, Uint32Array } as const;
export type TensorType = keyof typeof CTORS;

/** A typed array's bytes and what to read them back with. */
export interface TensorRef {
  path: string;
  type: TensorType;
  length: number;
}

export function tensorEntry(path: string, a: TensorArray, files: Map<string, Uint8Array>): TensorRef {
  files.set(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return { path, type: a.constructor.name as TensorType, length: a.length };
}

/** The typed array a TensorRef names (copied: zip entries are not aligned). */
export function readTensor(ref: TensorRef, files: Map<string, Uint8Array>, name = 'session'): TensorArray {
  const b = files.get(ref.path);
  const Ctor = CTORS[ref.type];
  if (!b) throw new Error(`${name}: ${ref.path} is missing from the session file`);
  if (!Ctor) throw new Error(`${name}: ${ref.path} has an unknown type ${String(ref.type)}`);
  if (b.byteLength !== ref.length * Ctor.BYTES_PER_ELEMENT) {
    throw new Error(`${name}: ${ref.path} has ${b.byteLength} bytes, expected ${ref.length} × ${Ctor.BYTES_PER_ELEMENT}`);
  }
  const copy = b.slice();
  return new Ctor(copy.buffer, 0, ref.length);
}
