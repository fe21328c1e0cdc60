/**
 * A minimal uncompressed TIFF writer for the TIFF reader tests (test-only): any byte order, 8/16/32-bit
 * unsigned, signed or float samples, several samples per pixel (interleaved or planar), several
 * pages, an optional ImageJ description and XResolution. One strip per page.
 */

export interface TiffPageSpec {
  width: number;
  height: number;
  bits: 8 | 16 | 32;
  /** 1 unsigned, 2 signed, 3 float. */
  format?: 1 | 2 | 3;
  /** PlanarConfiguration: 1 interleaved, 2 planes. */
  planar?: 1 | 2;
  photometric?: number;
  /** One array per sample (channel), width * height values each, row-major. */
  channels: number[][];
  description?: string;
  xResolution?: [number, number];
}

type Entry = { tag: number; type: 2 | 3 | 4 | 5; values: number[] | string };

const TYPE_SIZE = { 2: 1, 3: 2, 4: 4, 5: 8 } as const;

export function writeTiff(pages: TiffPageSpec[], littleEndian = true): Uint8Array {
  const chunks: { at: number; bytes: Uint8Array }[] = [];
  let end = 8;
  const alloc = (n: number): { at: number; view: DataView; bytes: Uint8Array } => {
    const at = end + (end & 1); // word-aligned
    const bytes = new Uint8Array(n);
    chunks.push({ at, bytes });
    end = at + n;
    return { at, view: new DataView(bytes.buffer), bytes };
  };
  const ifdOffsets: number[] = [];
  const nextFields: { view: DataView; at: number }[] = [];
  for (const p of pages) {
    const spp = p.channels.length;
    const n = p.width * p.height;
    const bytesPer = p.bits / 8;
    const pix = alloc(n * spp * bytesPer);
    const put = (k: number, v: number) => {
      const o = k * bytesPer;
      if (p.bits === 8) pix.view.setUint8(o, v & 0xff);
      else if (p.bits === 16 && p.format === 2) pix.view.setInt16(o, v, littleEndian);
      else if (p.bits === 16) pix.view.setUint16(o, v, littleEndian);
      else if (p.format === 3) pix.view.setFloat32(o, v, littleEndian);
      else if (p.format === 2) pix.view.setInt32(o, v, littleEndian);
      else pix.view.setUint32(o, v, littleEndian);
    };
    for (let s = 0; s < spp; s++) for (let i = 0; i < n; i++) put(p.planar === 2 ? s * n + i : i * spp + s, p.channels[s][i]);
    const entries: Entry[] = [
      { tag: 256, type: 4, values: [p.width] },
      { tag: 257, type: 4, values: [p.height] },
      { tag: 258, type: 3, values: Array(spp).fill(p.bits) },
      { tag: 259, type: 3, values: [1] },
      { tag: 262, type: 3, values: [p.photometric ?? (spp >= 3 ? 2 : 1)] },
      ...(p.description ? [{ tag: 270, type: 2, values: p.description + '\0' } as Entry] : []),
      { tag: 273, type: 4, values: [pix.at] },
      { tag: 277, type: 3, values: [spp] },
      { tag: 278, type: 4, values: [p.height] },
      { tag: 279, type: 4, values: [n * spp * bytesPer] },
      ...(p.xResolution ? [{ tag: 282, type: 5, values: p.xResolution } as Entry] : []),
      { tag: 284, type: 3, values: [p.planar ?? 1] },
      { tag: 339, type: 3, values: Array(spp).fill(p.format ?? 1) },
    ];
    const ifd = alloc(2 + entries.length * 12 + 4);
    ifdOffsets.push(ifd.at);
    ifd.view.setUint16(0, entries.length, littleEndian);
    entries.forEach((e, j) => {
      const o = 2 + j * 12;
      const count = typeof e.values === 'string' ? e.values.length : e.type === 5 ? e.values.length / 2 : e.values.length;
      ifd.view.setUint16(o, e.tag, littleEndian);
      ifd.view.setUint16(o + 2, e.type, littleEndian);
      ifd.view.setUint32(o + 4, count, littleEndian);
      const size = count * TYPE_SIZE[e.type];
      const target = size <= 4 ? { view: ifd.view, at: o + 8 } : (() => {
        const ext = alloc(size);
        ifd.view.setUint32(o + 8, ext.at, littleEndian);
        return { view: ext.view, at: 0 };
      })();
      if (typeof e.values === 'string') for (let c = 0; c < e.values.length; c++) target.view.setUint8(target.at + c, e.values.charCodeAt(c));
      else if (e.type === 3) e.values.forEach((v, k) => target.view.setUint16(target.at + 2 * k, v, littleEndian));
      else e.values.forEach((v, k) => target.view.setUint32(target.at + 4 * k, v, littleEndian));
    });
    nextFields.push({ view: ifd.view, at: 2 + entries.length * 12 });
  }
  nextFields.forEach((f, i) => f.view.setUint32(f.at, ifdOffsets[i + 1] ?? 0, littleEndian));
  const out = new Uint8Array(end);
  const head = new DataView(out.buffer);
  out[0] = out[1] = littleEndian ? 0x49 : 0x4d;
  head.setUint16(2, 42, littleEndian);
  head.setUint32(4, ifdOffsets[0], littleEndian);
  for (const c of chunks) out.set(c.bytes, c.at);
  return out;
}
