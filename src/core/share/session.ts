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
import { strFromU8, strToU8, zipSync, type Zippable } from 'fflate';
import { z } from '../zod';
import { LIMITS } from '../io/limits';
import { readZipEntry, zipDirectory } from '../io/zip';
import { InputError } from '../volume';

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

/** What session.json must be, beyond its format and version (checked first, with their own messages). */
const MANIFEST = z.object({
  format: z.literal(SESSION_FORMAT),
  version: z.number().int().min(1),
  preset: z.string().min(1).max(200),
  createdAt: z.string().max(200).default(''),
  link: z.string().max(LIMITS.maxLinkLength).optional(),
  state: z.unknown(),
  files: z
    .array(z.object({ path: z.string().min(1).max(1024), bytes: z.number().int().min(0).max(LIMITS.maxSessionBytes) }))
    .max(LIMITS.maxSessionEntries)
    .default([]),
});

/** Any JSON value as text for a message (String() throws on {"toString": 1}). */
const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v));

/** The first problems of a zod result, as `where: what` lines. */
function issues(e: z.ZodError, root: string): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${[root, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}

/**
 * Reads a session file; throws an InputError naming the file and what is wrong. Nothing is
 * inflated before the zip's directory is checked: at most LIMITS.maxSessionEntries entries and
 * LIMITS.maxSessionBytes bytes in all, each entry the size session.json says.
 */
export function readSession(bytes: Uint8Array, name = 'session'): SessionContent & { manifest: SessionManifest; createdAt: string } {
  let dir;
  try {
    dir = zipDirectory(bytes, name);
  } catch (e) {
    throw new InputError(`${name}: not a Voxelbench session (${(e as Error).message.replace(`${name}: `, '')})`);
  }
  const total = dir.reduce((a, e) => a + e.size, 0);
  if (total > LIMITS.maxSessionBytes) {
    throw new InputError(`${name}: the session's files add up to ${total.toLocaleString('en-US')} bytes, more than the limit of ${LIMITS.maxSessionBytes.toLocaleString('en-US')}`);
  }
  const byPath = new Map(dir.map((e) => [e.path, e]));
  const jsonEntry = byPath.get('session.json');
  if (!jsonEntry) throw new InputError(`${name}: not a Voxelbench session (no session.json inside)`);
  if (jsonEntry.size > 64 * 2 ** 20) throw new InputError(`${name}: session.json is ${jsonEntry.size} bytes; the file is damaged`);
  let raw: unknown;
  try {
    raw = JSON.parse(strFromU8(readZipEntry(bytes, jsonEntry, name)));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${name}: session.json is not valid JSON (${(e as Error).message})`);
  }
  const m0 = (raw !== null && typeof raw === 'object' ? raw : {}) as Partial<SessionManifest>;
  if (m0.format !== SESSION_FORMAT) throw new InputError(`${name}: not a Voxelbench session (format "${text(m0.format).slice(0, 100)}")`);
  if (typeof m0.version !== 'number' || m0.version > SESSION_VERSION) {
    throw new InputError(`${name}: session version ${text(m0.version).slice(0, 40)} was written by a newer Voxelbench; this one reads version ${SESSION_VERSION}`);
  }
  if (typeof m0.preset !== 'string') throw new InputError(`${name}: session.json names no page (preset)`);
  const parsed = MANIFEST.safeParse(raw);
  if (!parsed.success) throw new InputError(`${name}: session.json is damaged (${issues(parsed.error, 'session')})`);
  const m = parsed.data as SessionManifest;
  // every listed file is there with its size before any is inflated
  for (const f of m.files) {
    const e = byPath.get(f.path);
    if (!e || f.path === 'session.json') throw new InputError(`${name}: ${f.path} is missing from the session file`);
    if (e.size !== f.bytes) throw new InputError(`${name}: ${f.path} has ${e.size} bytes, session.json says ${f.bytes}`);
  }
  const files = new Map<string, Uint8Array>();
  for (const f of m.files) files.set(f.path, readZipEntry(bytes, byPath.get(f.path)!, name));
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

const TENSOR_REF = z.object({ path: z.string().min(1).max(1024), type: z.enum(Object.keys(CTORS) as [TensorType, ...TensorType[]]), length: z.number().int().min(0) });

/** The typed array a TensorRef names (copied: zip entries are not aligned); an InputError naming the file when the ref or the bytes are wrong. */
export function readTensor(ref: TensorRef, files: Map<string, Uint8Array>, name = 'session'): TensorArray {
  const r = TENSOR_REF.safeParse(ref);
  if (!r.success) throw new InputError(`${name}: a typed array in session.json is damaged (${issues(r.error, 'ref')})`);
  const b = files.get(r.data.path);
  const Ctor = CTORS[r.data.type];
  if (!b) throw new InputError(`${name}: ${ref.path} is missing from the session file`);
  if (b.byteLength !== ref.length * Ctor.BYTES_PER_ELEMENT) {
    throw new InputError(`${name}: ${ref.path} has ${b.byteLength} bytes, expected ${ref.length} × ${Ctor.BYTES_PER_ELEMENT}`);
  }
  const copy = b.slice();
  return new Ctor(copy.buffer, 0, ref.length);
}
