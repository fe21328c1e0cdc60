/**
 * HMS spectrogram parquet files (spec section 3): `time` + 400 float columns LL_0.59 .. LL_19.92,
 * RL_, LP_, RP_ (4 chains x 100 frequency bins), one row every 2 s. Read with hyparquet; the column
 * names are checked against the HMS list before any data is decoded, with a message naming what
 * differs. Values stay as read (NaN and nulls kept as NaN); the array is (400, T), row 0 = LL 0.59 Hz.
 */
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import type { CompressionCodec, FileMetaData, PageHeader, RowGroup, SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getTreePath } from 'hyparquet/src/schema.js';
import { readVarInt } from 'hyparquet/src/thrift.js';
import { LIMITS } from '../io/limits';
import { InputError } from '../volume';

/** The four bipolar chains of the HMS spectrograms, in column order. */
export const EEG_CHAINS = ['LL', 'RL', 'LP', 'RP'] as const;

/** Bin frequencies: k / 1024 * 200 Hz for k = 3 .. 102, as the column names write them (2 decimals, half up). */
export function hmsFrequencyNames(): string[] {
  const out: string[] = [];
  for (let k = 3; k <= 102; k++) {
    // exact decimal half-up rounding of k * 200 / 1024 = k * 25 / 128 to 2 decimals
    const hundredths = Math.floor((k * 2500 * 2 + 128) / (128 * 2));
    const s = (hundredths / 100).toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
    out.push(s);
  }
  return out;
}

/** The 401 HMS spectrogram column names: time, LL_0.59 .. LL_19.92, RL_.., LP_.., RP_... */
export function hmsColumns(): string[] {
  const f = hmsFrequencyNames();
  return ['time', ...EEG_CHAINS.flatMap((c) => f.map((x) => `${c}_${x}`))];
}

export const HMS_BINS = 100;
export const HMS_ROWS_PER_SECOND = 0.5;

export interface Spectrogram {
  /** File name as dropped. */
  name: string;
  /** The file stem: the submission's eeg_id. */
  eegId: string;
  /** Rows T (one every 2 s). */
  rows: number;
  /** The `time` column in seconds (float64); NaN where missing. */
  time: Float64Array;
  /** Parquet physical type of `time` (INT64, FLOAT, DOUBLE, ...), or 'missing'. */
  timeType: string;
  /** (400, T) row-major: data[r * T + t], row r = chain (r / 100) bin (r % 100); NaN kept. */
  data: Float32Array;
  nanCount: number;
  /** Bin frequencies in Hz (100), from the column names. */
  freqs: number[];
  warnings: string[];
}

function stemOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.parquet$/i, '');
}

function describeDiff(found: string[], expected: string[]): string {
  const have = new Set(found);
  const want = new Set(expected);
  const missing = expected.filter((c) => !have.has(c));
  const extra = found.filter((c) => !want.has(c) && c !== 'time' && !/^__index_level_\d+__$/.test(c));
  const list = (a: string[]) => (a.length > 6 ? `${a.slice(0, 6).join(', ')} and ${a.length - 6} more` : a.join(', '));
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.length} column${missing.length > 1 ? 's' : ''}: ${list(missing)}`);
  if (extra.length) parts.push(`unexpected column${extra.length > 1 ? 's' : ''}: ${list(extra)}`);
  return parts.join('; ');
}

const NUMERIC = new Set(['FLOAT', 'DOUBLE', 'INT32', 'INT64']);

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Bytes per value of a fixed-width physical type (undefined for BYTE_ARRAY and unknown types). */
function typeWidth(type: string | undefined, typeLength: number | undefined): number | undefined {
  if (type === 'INT32' || type === 'FLOAT') return 4;
  if (type === 'INT64' || type === 'DOUBLE') return 8;
  if (type === 'INT96') return 12;
  if (type === 'FIXED_LEN_BYTE_ARRAY' && isCount(typeLength)) return typeLength;
  return undefined;
}

/** Value encodings hyparquet decodes for the column types a spectrogram may have. */
const VALUE_ENCODINGS = new Set(['PLAIN', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT', 'DELTA_BINARY_PACKED']);
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY']);

/**
 * Walks an RLE / bit-packed hybrid run list (definition levels, dictionary indices) the way
 * hyparquet's readRleBitPackedHybrid will decode it (its varint arithmetic included), in bytes
 * [at, end) of `view`, for `count` values of `width` bits, and calls `each(value, n)` for each
 * stretch of n equal values. hyparquet writes an RLE run whole into a JS Array without bounding it
 * by the values the page holds: one run header of 2^30 grows the array past a gigabyte and V8
 * aborts the process. A run that goes past `count`, or bytes past `end`, throws here. Linear in
 * the bytes and the values.
 */
function walkHybrid(view: DataView, at: number, end: number, width: number, count: number, each: (value: number, n: number) => void): void {
  if (!(width >= 1 && width <= 32)) throw new Error(`has a bit width of ${width}`);
  if (!(at >= 0 && end >= at && end <= view.byteLength)) throw new Error(`has levels at bytes ${at}..${end} of a ${view.byteLength}-byte page`);
  const reader = { view: new DataView(view.buffer, view.byteOffset, end), offset: at };
  const valueBytes = (width + 7) >> 3;
  let seen = 0;
  while (seen < count) {
    if (reader.offset >= end) throw new Error(`is missing ${count - seen} of its ${count} values from its runs`);
    const header = readVarInt(reader);
    if (header & 1) {
      // bit-packed: (header >> 1) groups of 8 values, `width` bytes a group
      const n = (header >> 1) << 3;
      const bytes = (n / 8) * width;
      if (n <= 0 || reader.offset + bytes > end) throw new Error(`has a bit-packed run of ${n} values (${bytes} bytes) at byte ${reader.offset}, the levels end at ${end}`);
      const take = Math.min(n, count - seen);
      const base = reader.offset * 8;
      for (let i = 0; i < take; i++) {
        let v = 0;
        for (let got = 0; got < width; ) {
          const bit = base + i * width + got;
          const shift = bit & 7;
          const k = Math.min(8 - shift, width - got);
          v += ((view.getUint8(bit >> 3) >> shift) & ((1 << k) - 1)) * 2 ** got;
          got += k;
        }
        each(v, 1);
      }
      reader.offset += bytes;
      seen += take;
    } else {
      const n = header >>> 1;
      if (n > count - seen) throw new Error(`has a run of ${n} values where ${count - seen} of ${count} are left`);
      if (reader.offset + valueBytes > end) throw new Error(`has a run's value past the end of its levels (byte ${end})`);
      let v = 0;
      for (let i = 0; i < valueBytes; i++) v += view.getUint8(reader.offset++) * 2 ** (8 * i);
      each(v, n);
      seen += n;
    }
  }
}

/** A page's bytes as hyparquet decompresses them (it checks the size); throws the reason. */
function inflatePage(stored: Uint8Array, size: number, codec: CompressionCodec): Uint8Array {
  try {
    return decompressPage(stored, size, codec, undefined);
  } catch (e) {
    throw new Error(`cannot be decompressed (${(e as Error).message})`, { cause: e });
  }
}

interface ChunkInfo {
  path: string;
  type: string | undefined;
  typeLength: number | undefined;
  maxDef: number;
  codec: CompressionCodec;
}

/**
 * Checks one data page's levels and values as hyparquet will read them (`page`: the page's bytes
 * after its header; for a DATA_PAGE the decompressed page, for a DATA_PAGE_V2 the page as stored):
 * definition-level runs that stay inside the page and the page's value count, the null count they
 * give, dictionary indices inside the dictionary, value bytes inside the page.
 */
function checkDataPage(page: Uint8Array, h: PageHeader, c: ChunkInfo, dictSize: number | undefined): void {
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const v2 = h.data_page_header_v2;
  const d = h.type === 'DATA_PAGE' ? h.data_page_header : v2;
  if (!d) throw new Error('has no data page header');
  const n = d.num_values;
  let off = 0;
  let present = n;
  if (c.maxDef) {
    let len: number;
    if (v2) {
      off = v2.repetition_levels_byte_length;
      len = v2.definition_levels_byte_length;
    } else {
      // hyparquet reads them as RLE whatever the header says (a damaged value there is harmless); BIT_PACKED it would misread
      if (h.data_page_header?.definition_level_encoding === 'BIT_PACKED') throw new Error('has definition levels encoded as BIT_PACKED');
      if (page.length < 4) throw new Error(`is ${page.length} bytes, too short for its levels`);
      len = view.getUint32(0, true);
      off = 4;
    }
    if (off + len > page.length) throw new Error(`has definition levels of ${len} bytes in ${page.length} bytes`);
    present = 0;
    walkHybrid(view, off, off + len, 1, n, (v, k) => {
      if (v > c.maxDef) throw new Error(`has a definition level of ${v} (the most is ${c.maxDef})`);
      if (v === c.maxDef) present += k;
    });
    off += len;
  }
  if (v2 && v2.num_nulls !== n - present) throw new Error(`claims ${v2.num_nulls} nulls, its levels give ${n - present}`);
  let values = page;
  if (v2) {
    const size = h.uncompressed_page_size - off;
    if (size < 0) throw new Error(`claims ${h.uncompressed_page_size} bytes uncompressed with ${off} bytes of levels`);
    values = v2.is_compressed === false ? page.subarray(off) : inflatePage(page.subarray(off), size, c.codec);
    off = 0;
  }
  const vview = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const left = values.length - off;
  const enc = d.encoding;
  if (!VALUE_ENCODINGS.has(enc)) throw new Error(`has values encoded as ${String(enc)}`);
  const width = typeWidth(c.type, c.typeLength);
  if (enc === 'PLAIN' || enc === 'BYTE_STREAM_SPLIT') {
    if (width !== undefined && present * width > left) throw new Error(`has ${present} values of ${width} bytes in ${left} bytes`);
  } else if (enc === 'DELTA_BINARY_PACKED') {
    if (c.type !== 'INT32' && c.type !== 'INT64') throw new Error(`has ${c.type ?? 'untyped'} values encoded as DELTA_BINARY_PACKED`);
    if (!present) return;
    const reader = { view: vview, offset: off };
    const block = readVarInt(reader);
    const mini = readVarInt(reader);
    if (!(block > 0 && block % 128 === 0 && mini > 0 && block % mini === 0 && (block / mini) % 32 === 0 && mini <= left)) throw new Error(`has a delta block of ${block} values in ${mini} miniblocks`);
  } else {
    // dictionary indices: a bit width, then runs (hyparquet reads them up to the end of the page)
    if (dictSize === undefined) throw new Error('has dictionary-encoded values without a dictionary page');
    if (!present) return;
    if (left < 1) throw new Error('has no dictionary indices');
    const bits = vview.getUint8(off);
    if (bits === 0) {
      if (dictSize < 1) throw new Error('has an empty dictionary');
      return;
    }
    walkHybrid(vview, off + 1, values.length, bits, present, (v) => {
      if (v >= dictSize) throw new Error(`has a dictionary index of ${v} in a dictionary of ${dictSize}`);
    });
  }
}

/**
 * Checks a row group's column chunks and every page in them against the file and the limits
 * before hyparquet decodes anything. hyparquet trusts page sizes, value counts and run lengths: a
 * byte flip there is a loop over 2^31 values, an allocation of gigabytes or a JS Array grown past
 * V8's limit (which aborts the process; nothing can catch it). Throws the reason.
 */
function checkRowGroup(buf: ArrayBuffer, tree: SchemaTree, rg: RowGroup, footerStart: number, wanted: ReadonlySet<string>): void {
  const rows = Number(rg.num_rows);
  if (!isCount(rows) || rows > LIMITS.maxTableRows) throw new Error(`a row group of ${String(rg.num_rows)} rows`);
  for (const cc of rg.columns) {
    const m = cc.meta_data;
    if (!m || !Array.isArray(m.path_in_schema)) continue;
    const path = m.path_in_schema.join('.');
    // hyparquet reads every chunk whose path starts with a requested name
    if (!wanted.has(String(m.path_in_schema[0]))) continue;
    if (m.path_in_schema.length !== 1) throw new Error(`column ${path} is nested`);
    const schemaPath = getTreePath(tree, m.path_in_schema);
    if (getMaxRepetitionLevel(schemaPath)) throw new Error(`column ${path} is repeated`);
    const element = schemaPath[schemaPath.length - 1].element;
    if (!CODECS.has(m.codec)) throw new Error(`column ${path} is compressed with ${String(m.codec)}, which this reader does not read (UNCOMPRESSED or SNAPPY)`);
    const info: ChunkInfo = { path, type: element.type, typeLength: element.type_length, maxDef: getMaxDefinitionLevel(schemaPath), codec: m.codec };
    // where hyparquet starts reading the chunk (plan.js: dictionary page, else the first data page)
    const start = Number(m.dictionary_page_offset || m.data_page_offset);
    const end = start + Number(m.total_compressed_size);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 4 && end >= start && end <= footerStart)) {
      throw new Error(`column ${path} claims bytes ${start}..${end}, the data ends at ${footerStart}`);
    }
    let values = 0;
    let dictSize: number | undefined;
    for (let pos = start; pos < end; ) {
      const reader = { view: new DataView(buf, 0, end), offset: pos };
      const h = parquetHeader(reader);
      const size = h.compressed_page_size;
      if (!isCount(size) || reader.offset + size > end) throw new Error(`a page of column ${path} at byte ${pos} claims ${String(size)} bytes past its chunk`);
      if (!isCount(h.uncompressed_page_size) || h.uncompressed_page_size > LIMITS.maxTablePageBytes) throw new Error(`a page of column ${path} claims ${String(h.uncompressed_page_size)} bytes uncompressed`);
      const stored = new Uint8Array(buf, reader.offset, size);
      const inflate = (): Uint8Array => inflatePage(stored, h.uncompressed_page_size, m.codec);
      try {
        if (h.type === 'DATA_PAGE' || h.type === 'DATA_PAGE_V2') {
          const d = h.type === 'DATA_PAGE' ? h.data_page_header : h.data_page_header_v2;
          const n = d?.num_values;
          if (!isCount(n) || n > rows) throw new Error(`claims ${String(n)} values in a row group of ${rows} rows`);
          const v2 = h.data_page_header_v2;
          if (v2 && !(isCount(v2.num_rows) && v2.num_rows <= n && isCount(v2.num_nulls) && isCount(v2.definition_levels_byte_length) && isCount(v2.repetition_levels_byte_length) && v2.definition_levels_byte_length + v2.repetition_levels_byte_length <= size)) {
            throw new Error('has a damaged header');
          }
          values += n;
          if (values > rows) throw new Error(`brings the column past the ${rows} rows of its row group`);
          checkDataPage(v2 ? stored : inflate(), h, info, dictSize);
        } else if (h.type === 'DICTIONARY_PAGE') {
          const n = h.dictionary_page_header?.num_values;
          const w = typeWidth(info.type, info.typeLength) ?? 1;
          if (!isCount(n) || n * w > h.uncompressed_page_size) throw new Error(`is a dictionary of ${String(n)} values in ${h.uncompressed_page_size} bytes`);
          const enc = h.dictionary_page_header?.encoding;
          if (enc !== 'PLAIN' && enc !== 'PLAIN_DICTIONARY') throw new Error(`is a dictionary encoded as ${String(enc)}`);
          if (dictSize !== undefined || values) throw new Error('is a second dictionary');
          inflate();
          dictSize = n;
        } else throw new Error(`has the type ${String(h.type)}`);
      } catch (e) {
        throw new Error(`a page of column ${path} ${(e as Error).message}`, { cause: e });
      }
      pos = reader.offset + size;
    }
    if (values !== rows) throw new Error(`column ${path} has ${values} values for the ${rows} rows of its row group`);
  }
}

/**
 * Reads one HMS spectrogram parquet file. Throws InputError (message starting with the file name)
 * for a truncated/non-parquet file, wrong or missing columns, non-numeric columns or no rows.
 */
export async function readSpectrogramParquet(bytes: ArrayBuffer | Uint8Array, name: string): Promise<Spectrogram> {
  const buf = bytes instanceof Uint8Array ? (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer) : bytes;
  const n = buf.byteLength;
  const head = new Uint8Array(buf, 0, Math.min(4, n));
  const magic = String.fromCharCode(...head);
  if (n < 12 || magic !== 'PAR1') throw new InputError(`${name}: not a Parquet file (it does not start with PAR1; ${n} bytes)`);
  const tail = String.fromCharCode(...new Uint8Array(buf, n - 4, 4));
  if (tail !== 'PAR1') throw new InputError(`${name}: the Parquet file is truncated (it does not end with the PAR1 footer; ${n} bytes; was the download or copy cut short?)`);
  let md: FileMetaData;
  try {
    md = parquetMetadata(buf);
  } catch (e) {
    throw new InputError(`${name}: the Parquet footer cannot be read (${(e as Error).message}); the file is damaged or truncated`);
  }
  // column names: the leaf columns of a flat schema
  const leaves = md.schema.slice(1).filter((s) => !s.num_children);
  const found = leaves.map((s) => s.name);
  const expected = hmsColumns();
  const diff = describeDiff(found, expected.slice(1));
  const haveTime = found.includes('time');
  if (/missing/.test(diff)) {
    throw new InputError(`${name}: not an HMS spectrogram: ${diff} (expected time + 400 columns LL_0.59 .. LL_19.92, RL_, LP_, RP_; found ${found.length} columns)`);
  }
  const warnings: string[] = [];
  if (diff) warnings.push(`${name}: ${diff} (ignored)`);
  const byName = new Map(leaves.map((s) => [s.name, s]));
  const badType = expected.slice(1).filter((c) => !NUMERIC.has(byName.get(c)?.type ?? ''));
  if (badType.length) {
    const c = badType[0];
    throw new InputError(`${name}: column ${c} has type ${byName.get(c)?.type ?? 'unknown'}; the spectrogram columns must be numbers (FLOAT, DOUBLE, INT32 or INT64)`);
  }
  const rows = Number(md.num_rows);
  if (!Number.isSafeInteger(rows) || rows < 0) throw new InputError(`${name}: the Parquet footer is damaged (${String(md.num_rows)} rows)`);
  if (rows < 1) throw new InputError(`${name}: the file has no rows`);
  if (rows > LIMITS.maxTableRows) {
    throw new InputError(`${name}: ${rows} rows (${(rows / 1800).toFixed(0)} hours at one row every 2 s) is more than the limit of ${LIMITS.maxTableRows}; the footer is damaged or the recording too long`);
  }
  const groupRows = md.row_groups.reduce((a, rg) => a + Number(rg.num_rows), 0);
  if (groupRows !== rows) throw new InputError(`${name}: the Parquet file is damaged (its row groups hold ${groupRows} rows, its footer says ${rows})`);
  // truncated or damaged data: a column chunk or a page reaching past the footer, sizes and counts that cannot be
  const footerStart = n - 8 - md.metadata_length;
  const wanted = new Set(haveTime ? expected : expected.slice(1));
  let tree: SchemaTree | undefined;
  for (const rg of md.row_groups) {
    try {
      // the schema as a tree, once (hyparquet's getSchemaPath builds it again for every column)
      tree ??= parquetSchema(md);
      checkRowGroup(buf, tree, rg, footerStart, wanted);
    } catch (e) {
      throw new InputError(`${name}: the Parquet file is damaged or truncated (${(e as Error).message})`);
    }
  }

  const T = rows;
  const data = new Float32Array(400 * T).fill(NaN);
  const time = new Float64Array(T).fill(NaN);
  const rowOf = new Map<string, number>(expected.slice(1).map((c, i) => [c, i]));
  const columns = haveTime ? expected : expected.slice(1);
  let outside: string | undefined;
  try {
    await parquetRead({
      file: buf,
      metadata: md,
      columns,
      onChunk(chunk) {
        // (hyparquet calls this from its own promise chain: a throw here would be uncaught, so the
        // chunk is left out and the file refused below)
        if (!(chunk.rowStart >= 0 && chunk.rowEnd <= T && chunk.rowStart <= chunk.rowEnd)) {
          outside ??= `column ${chunk.columnName} gives rows ${chunk.rowStart}..${chunk.rowEnd} of ${T}`;
          return;
        }
        const vals = chunk.columnData as ArrayLike<unknown>;
        const r = rowOf.get(chunk.columnName);
        const len = Math.min(vals.length, chunk.rowEnd - chunk.rowStart);
        if (chunk.columnName === 'time') {
          for (let i = 0; i < len; i++) {
            const v = vals[i];
            time[chunk.rowStart + i] = v === null || v === undefined ? NaN : Number(v as number | bigint);
          }
        } else if (r !== undefined) {
          const off = r * T + chunk.rowStart;
          for (let i = 0; i < len; i++) {
            const v = vals[i];
            data[off + i] = v === null || v === undefined ? NaN : Number(v as number | bigint);
          }
        }
      },
    });
  } catch (e) {
    throw new InputError(`${name}: the Parquet data cannot be decoded (${(e as Error).message}); the file is damaged or truncated`);
  }
  if (outside) throw new InputError(`${name}: the Parquet file is damaged (${outside})`);
  let nanCount = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) nanCount++;
  if (!haveTime) warnings.push(`${name}: no time column; rows are taken as 2 s apart`);
  const timeType = haveTime ? (byName.get('time')?.type ?? 'unknown') : 'missing';
  if (!haveTime) for (let i = 0; i < T; i++) time[i] = 2 * i + 1;
  return {
    name,
    eegId: stemOf(name),
    rows: T,
    time,
    timeType,
    data,
    nanCount,
    freqs: hmsFrequencyNames().map(Number),
    warnings,
  };
}
