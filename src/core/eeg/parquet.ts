/**
 * HMS spectrogram parquet files (spec section 3): `time` + 400 float columns LL_0.59 .. LL_19.92,
 * RL_, LP_, RP_ (4 chains x 100 frequency bins), one row every 2 s. Read with hyparquet; the column
 * names are checked against the HMS list before any data is decoded, with a message naming what
 * differs. Values stay as read (NaN and nulls kept as NaN); the array is (400, T), row 0 = LL 0.59 Hz.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { FileMetaData, RowGroup } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
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

/**
 * Checks a row group's column chunks and every page header in them against the file and the
 * limits before hyparquet decodes anything (it trusts page sizes and value counts: a byte flip
 * there is a loop over 2^31 values or an allocation of gigabytes). Throws the reason.
 */
function checkRowGroup(buf: ArrayBuffer, rg: RowGroup, footerStart: number, wanted: ReadonlySet<string>): void {
  const rows = Number(rg.num_rows);
  if (!isCount(rows) || rows > LIMITS.maxTableRows) throw new Error(`a row group of ${String(rg.num_rows)} rows`);
  for (const cc of rg.columns) {
    const m = cc.meta_data;
    if (!m || !Array.isArray(m.path_in_schema)) continue;
    const path = m.path_in_schema.join('.');
    if (!wanted.has(path)) continue;
    // where hyparquet starts reading the chunk (plan.js: dictionary page, else the first data page)
    const start = Number(m.dictionary_page_offset || m.data_page_offset);
    const end = start + Number(m.total_compressed_size);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 4 && end >= start && end <= footerStart)) {
      throw new Error(`column ${path} claims bytes ${start}..${end}, the data ends at ${footerStart}`);
    }
    let values = 0;
    for (let pos = start; pos < end; ) {
      const reader = { view: new DataView(buf, 0, end), offset: pos };
      const h = parquetHeader(reader);
      const size = h.compressed_page_size;
      if (!isCount(size) || reader.offset + size > end) throw new Error(`a page of column ${path} at byte ${pos} claims ${String(size)} bytes past its chunk`);
      if (!isCount(h.uncompressed_page_size) || h.uncompressed_page_size > LIMITS.maxTablePageBytes) throw new Error(`a page of column ${path} claims ${String(h.uncompressed_page_size)} bytes uncompressed`);
      if (h.type === 'DATA_PAGE' || h.type === 'DATA_PAGE_V2') {
        const d = h.type === 'DATA_PAGE' ? h.data_page_header : h.data_page_header_v2;
        const n = d?.num_values;
        if (!isCount(n) || n > rows) throw new Error(`a page of column ${path} claims ${String(n)} values in a row group of ${rows} rows`);
        const v2 = h.data_page_header_v2;
        if (v2 && !(isCount(v2.num_rows) && v2.num_rows <= n && isCount(v2.num_nulls) && isCount(v2.definition_levels_byte_length) && isCount(v2.repetition_levels_byte_length) && v2.definition_levels_byte_length + v2.repetition_levels_byte_length <= size)) {
          throw new Error(`a page of column ${path} has a damaged header`);
        }
        values += n;
        if (values > rows) throw new Error(`column ${path} has more values than the ${rows} rows of its row group`);
      } else if (h.type === 'DICTIONARY_PAGE') {
        const n = h.dictionary_page_header?.num_values;
        if (!isCount(n) || n > h.uncompressed_page_size) throw new Error(`a dictionary page of column ${path} claims ${String(n)} values in ${h.uncompressed_page_size} bytes`);
      } else throw new Error(`column ${path} has a page of type ${String(h.type)}`);
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
  for (const rg of md.row_groups) {
    try {
      checkRowGroup(buf, rg, footerStart, wanted);
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
