/**
 * HMS spectrogram parquet files (spec section 3): `time` + 400 float columns LL_0.59 .. LL_19.92,
 * RL_, LP_, RP_ (4 chains x 100 frequency bins), one row every 2 s. Read with hyparquet; the column
 * names are checked against the HMS list before any data is decoded, with a message naming what
 * differs. Values stay as read (NaN and nulls kept as NaN); the array is (400, T), row 0 = LL 0.59 Hz.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
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
  if (rows < 1) throw new InputError(`${name}: the file has no rows`);
  // truncated data: a column chunk reaching past the footer
  const footerStart = n - 8 - md.metadata_length;
  for (const rg of md.row_groups) {
    for (const cc of rg.columns) {
      const m = cc.meta_data;
      if (!m) continue;
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      if (end > footerStart || start < 4) {
        throw new InputError(`${name}: the Parquet file is damaged or truncated (column ${m.path_in_schema.join('.')} claims bytes ${start}..${end}, the data ends at ${footerStart})`);
      }
    }
  }

  const T = rows;
  const data = new Float32Array(400 * T).fill(NaN);
  const time = new Float64Array(T).fill(NaN);
  const rowOf = new Map<string, number>(expected.slice(1).map((c, i) => [c, i]));
  const columns = haveTime ? expected : expected.slice(1);
  try {
    await parquetRead({
      file: buf,
      metadata: md,
      columns,
      onChunk(chunk) {
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
