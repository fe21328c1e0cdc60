/**
 * Reading HPA-style fields of view (no DOM: page, worker, Node): one grayscale PNG per channel
 * (`<id>_red.png`, `_green`, `_blue`, `_yellow`; 8- or 16-bit, fast-png), or one 4-channel TIFF
 * (4 samples per pixel, or 4 pages of one sample; 8 or 16 bit, src/core/io/tiff.ts), and cell masks as label
 * images (`<id>_cells.png`, 8/16-bit PNG or TIFF, 0 = background). Values are kept as stored
 * (no 16 -> 8 bit reduction): the pipeline's scaling depends on the maximum.
 * Colour PNGs given as one channel take the maximum of R, G, B per pixel (a tinted or gray-as-RGB
 * channel image keeps its values); palette images are expanded first.
 */
import { decode as decodePng } from 'fast-png';
import { safePng } from '../io/imageHeaders';
import { decodeTiffPage, openTiff, releaseTiffPage, tiffPageSamples } from '../io/tiff';
import { InputError } from '../volume';

/** Channel order of the model input (HPA file suffixes). */
export const PROTEIN_CHANNELS = ['red', 'green', 'blue', 'yellow'] as const;
export type ProteinChannel = (typeof PROTEIN_CHANNELS)[number];

export type ChannelData = Uint8Array | Uint16Array;

export interface ChannelImage {
  width: number;
  height: number;
  data: ChannelData;
  bits: 8 | 16;
}

/** One field of view: four channels of the same size, in the order red, green, blue, yellow. */
export interface FieldOfView {
  id: string;
  width: number;
  height: number;
  channels: [ChannelData, ChannelData, ChannelData, ChannelData];
  bits: 8 | 16;
}

const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isTiff = (b: Uint8Array) => b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42));

function describeBytes(b: Uint8Array): string {
  if (b.length === 0) return 'the file is empty';
  if (b[0] === 0xff && b[1] === 0xd8) return 'it is a JPEG (lossy; use the PNG or TIFF files)';
  return `its first bytes are ${Array.from(b.subarray(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ')}`;
}

/** Decodes one channel image (PNG or single-channel TIFF) keeping 8- or 16-bit values. */
export function decodeChannelImage(bytes: Uint8Array, name: string): ChannelImage {
  if (isPng(bytes)) return decodeChannelPng(bytes, name);
  if (isTiff(bytes)) {
    const pages = readTiffChannels(bytes, name);
    if (pages.channels.length !== 1) throw new InputError(`${name}: the TIFF has ${pages.channels.length} channels; a channel file needs one`);
    return { width: pages.width, height: pages.height, data: pages.channels[0], bits: pages.bits };
  }
  throw new InputError(`${name}: not a PNG image (${describeBytes(bytes)})`);
}

/** fast-png's decode of a PNG checked first (size, chunks, image data: imageHeaders.safePng). */
function decodeCheckedPng(bytes: Uint8Array, name: string): ReturnType<typeof decodePng> {
  const safe = safePng(bytes, name).bytes;
  try {
    return decodePng(safe, { checkCrc: false }); // safePng writes its chunks without CRCs
  } catch (e) {
    throw new InputError(`${name}: cannot decode the PNG (${(e as Error).message ?? e}); the file is corrupt or cut short`);
  }
}

export function decodeChannelPng(bytes: Uint8Array, name: string): ChannelImage {
  const png = decodeCheckedPng(bytes, name);
  const { width, height, channels, depth } = png;
  const n = width * height;
  let data: ChannelData;
  if (png.palette) {
    // indexed: expand to the palette's RGB, then max of R, G, B
    const idx = unpackBits(png.data as Uint8Array, width, height, depth);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = png.palette[idx[i]] ?? [0, 0, 0];
      out[i] = Math.max(c[0], c[1], c[2]);
    }
    return { width, height, data: out, bits: 8 };
  }
  if (depth < 8) {
    const v = unpackBits(png.data as Uint8Array, width, height, depth);
    const f = 255 / ((1 << depth) - 1);
    data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.round(v[i] * f);
    return { width, height, data, bits: 8 };
  }
  const src = png.data;
  if (channels === 1) data = depth === 16 ? new Uint16Array(src) : new Uint8Array(src);
  else {
    const colours = channels >= 3 ? 3 : 1; // gray + alpha: the gray value
    data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let m = src[i * channels];
      for (let c = 1; c < colours; c++) m = Math.max(m, src[i * channels + c]);
      data[i] = m;
    }
  }
  return { width, height, data, bits: depth === 16 ? 16 : 8 };
}

function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  if (depth === 8) return packed;
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * The channels of a TIFF (core's one TIFF reader, src/core/io/tiff.ts): one page with several
 * samples per pixel (RGBA-like, chunky or planar) or several one-sample pages; 8- or 16-bit
 * unsigned integers.
 */
export function readTiffChannels(bytes: Uint8Array, name: string): { width: number; height: number; bits: 8 | 16; channels: ChannelData[] } {
  const t = openTiff(bytes, name);
  const { width, height } = t.pages[0];
  const out: ChannelData[] = [];
  let bits: 8 | 16 = 8;
  for (const [pi, p] of t.pages.entries()) {
    if (p.width !== width || p.height !== height) {
      throw new InputError(`${name}: TIFF page ${pi + 1} is ${p.width} x ${p.height} but page 1 is ${width} x ${height}`);
    }
    if ((p.bits !== 8 && p.bits !== 16) || p.format !== 1) {
      throw new InputError(`${name}: ${p.bits}-bit ${p.format === 3 ? 'float' : p.format === 2 ? 'signed' : ''} TIFF samples are not supported; use 8- or 16-bit unsigned images`);
    }
    bits = p.bits === 16 ? 16 : bits;
    decodeTiffPage(t, pi);
    for (let s = 0; s < p.samples; s++) out.push(tiffPageSamples(t, pi, s) as ChannelData);
    releaseTiffPage(t, pi);
  }
  if (bits === 16) for (let i = 0; i < out.length; i++) if (out[i] instanceof Uint8Array) out[i] = Uint16Array.from(out[i]);
  return { width, height, bits, channels: out };
}

/** A 4-channel TIFF (red, green, blue, yellow) as one field of view. */
export function readRgbyTiff(bytes: Uint8Array, id: string, name = id): FieldOfView {
  if (!isTiff(bytes)) throw new InputError(`${name}: not a TIFF image (${describeBytes(bytes)})`);
  const t = readTiffChannels(bytes, name);
  if (t.channels.length !== 4) {
    throw new InputError(`${name}: the TIFF has ${t.channels.length} channel${t.channels.length === 1 ? '' : 's'}; a field of view needs 4 (red, green, blue, yellow)`);
  }
  return { id, width: t.width, height: t.height, bits: t.bits, channels: t.channels as FieldOfView['channels'] };
}

/** Four decoded channel images (red, green, blue, yellow) as a field of view, with size checks naming the files. */
export function fieldOfView(id: string, images: Record<ProteinChannel, ChannelImage>, names?: Partial<Record<ProteinChannel, string>>): FieldOfView {
  const r = images.red;
  const bad = PROTEIN_CHANNELS.filter((c) => images[c].width !== r.width || images[c].height !== r.height);
  if (bad.length > 0) {
    const sizes = PROTEIN_CHANNELS.map((c) => `${names?.[c] ?? c} ${images[c].width} x ${images[c].height}`).join(', ');
    throw new InputError(`${id}: the channels have different sizes (${sizes}); all four must have the same size`);
  }
  const bits = PROTEIN_CHANNELS.some((c) => images[c].bits === 16) ? 16 : 8;
  const chans = PROTEIN_CHANNELS.map((c) => (bits === 16 && images[c].data instanceof Uint8Array ? Uint16Array.from(images[c].data) : images[c].data));
  return { id, width: r.width, height: r.height, bits, channels: chans as FieldOfView['channels'] };
}

/** A cell mask (label image: 0 background, 1..n cells) from an 8/16-bit gray PNG or TIFF. */
export function decodeLabelImage(bytes: Uint8Array, name: string): { width: number; height: number; labels: Int32Array } {
  let img: ChannelImage;
  if (isPng(bytes)) {
    const png = decodeCheckedPng(bytes, name);
    if (png.channels !== 1 || png.palette) throw new InputError(`${name}: a cell mask must be a grayscale label image (0 = background, 1..n = cells); this PNG has ${png.channels} channels${png.palette ? ' (palette)' : ''}`);
    img = decodeChannelPng(bytes, name);
  } else if (isTiff(bytes)) img = decodeChannelImage(bytes, name);
  else throw new InputError(`${name}: a cell mask must be a PNG or TIFF label image (${describeBytes(bytes)})`);
  return { width: img.width, height: img.height, labels: Int32Array.from(img.data) };
}

// ---------------------------------------------------------------------------------------------
// grouping files by field of view

export type ProteinFileRole = ProteinChannel | 'cells' | 'tiff';

const CHANNEL_RE = /^(.+)_(red|green|blue|yellow)\.([a-z0-9]+)$/i;
const CELLS_RE = /^(.+?)_(cells?|cell_?masks?|masks?|segmentation|labels?)\.(png|tiff?)$/i;
const TIFF_RE = /^(.+)\.(tiff?)$/i;

/** What a file name says: the field-of-view id and the role, or null (not a field-of-view file). */
export function classifyProteinFile(fileName: string): { id: string; role: ProteinFileRole; ext: string } | null {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  let m = CHANNEL_RE.exec(base);
  if (m) return { id: m[1], role: m[2].toLowerCase() as ProteinChannel, ext: m[3].toLowerCase() };
  m = CELLS_RE.exec(base);
  if (m) return { id: m[1], role: 'cells', ext: m[3].toLowerCase() };
  m = TIFF_RE.exec(base);
  if (m) return { id: m[1], role: 'tiff', ext: m[2].toLowerCase() };
  return null;
}

export interface FovFiles<F> {
  id: string;
  channels: Partial<Record<ProteinChannel, F>>;
  tiff?: F;
  cells?: F;
}

/**
 * Groups files into fields of view by id (`<id>_red.png` ...; `<id>.tif`; masks `<id>_cells.png`),
 * in order of first appearance. `problem(set)` then says what is missing (null when complete).
 */
export function groupProteinFiles<F>(files: F[], nameOf: (f: F) => string): { sets: FovFiles<F>[]; ignored: string[] } {
  const byId = new Map<string, FovFiles<F>>();
  const ignored: string[] = [];
  for (const f of files) {
    const c = classifyProteinFile(nameOf(f));
    if (!c) {
      ignored.push(nameOf(f));
      continue;
    }
    let s = byId.get(c.id);
    if (!s) byId.set(c.id, (s = { id: c.id, channels: {} }));
    if (c.role === 'cells') s.cells = f;
    else if (c.role === 'tiff') s.tiff = f;
    else s.channels[c.role] = f;
  }
  // a mask with no image set is not a field of view
  const sets = [...byId.values()];
  for (const s of sets) if (!s.tiff && Object.keys(s.channels).length === 0 && s.cells) ignored.push(nameOf(s.cells));
  return { sets: sets.filter((s) => s.tiff || Object.keys(s.channels).length > 0), ignored };
}

/** Why a set cannot be read (missing channels), or null. */
export function fovFilesProblem<F>(s: FovFiles<F>): string | null {
  if (s.tiff && Object.keys(s.channels).length === 0) return null;
  const missing = PROTEIN_CHANNELS.filter((c) => !s.channels[c]);
  if (missing.length === 0) return null;
  return `${s.id}: missing the ${missing.join(', ')} channel${missing.length > 1 ? 's' : ''} (${missing.map((c) => `${s.id}_${c}.png`).join(', ')}); a field of view needs red, green, blue and yellow`;
}

/** Reads one grouped set (bytes of each file by name) into a field of view; errors name the file. */
export async function readFovFiles<F>(s: FovFiles<F>, bytesOf: (f: F) => Promise<Uint8Array>, nameOf: (f: F) => string): Promise<{ fov: FieldOfView; cells: Int32Array | null; cellsName?: string }> {
  const problem = fovFilesProblem(s);
  if (problem) throw new InputError(problem);
  let fov: FieldOfView;
  if (s.tiff && Object.keys(s.channels).length === 0) fov = readRgbyTiff(await bytesOf(s.tiff), s.id, nameOf(s.tiff));
  else {
    const images = {} as Record<ProteinChannel, ChannelImage>;
    const names = {} as Record<ProteinChannel, string>;
    for (const c of PROTEIN_CHANNELS) {
      const f = s.channels[c]!;
      names[c] = nameOf(f);
      const ext = classifyProteinFile(nameOf(f))?.ext;
      const bytes = await bytesOf(f);
      if (ext !== 'png' && ext !== 'tif' && ext !== 'tiff' && !isPng(bytes)) throw new InputError(`${nameOf(f)}: not a PNG image (${describeBytes(bytes)}); channel files must be 8- or 16-bit PNG`);
      images[c] = decodeChannelImage(bytes, nameOf(f));
    }
    fov = fieldOfView(s.id, images, names);
  }
  let cells: Int32Array | null = null;
  if (s.cells) {
    const m = decodeLabelImage(await bytesOf(s.cells), nameOf(s.cells));
    if (m.width !== fov.width || m.height !== fov.height) {
      throw new InputError(`${nameOf(s.cells)}: the cell mask is ${m.width} x ${m.height} but the images of ${s.id} are ${fov.width} x ${fov.height}`);
    }
    cells = m.labels;
  }
  return { fov, cells, cellsName: s.cells ? nameOf(s.cells) : undefined };
}
