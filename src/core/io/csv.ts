/**
 * CSV for every preset (labels, votes, cell labels, submissions), read and written with d3-dsv
 * (RFC 4180 quotes, CRLF or LF; linear in the input). Pure.
 */
import { csvFormatRows, csvParseRows } from 'd3-dsv';

/**
 * Rows of fields: a leading BOM is dropped and blank lines are skipped (a line with nothing on it
 * is no row). Quoted fields keep their commas, quotes and line breaks.
 */
export function parseCsvRows(text: string): string[][] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return csvParseRows(s).filter((r) => r.length > 1 || r[0] !== '');
}

/** A header row and records by column name (lower-cased, trimmed names; see `column`). */
export interface CsvTable {
  header: string[];
  rows: string[][];
  /** Index of a column by name, case-insensitive (-1 when missing). */
  column(name: string): number;
}

export function parseCsvTable(text: string): CsvTable | null {
  const all = parseCsvRows(text);
  if (all.length === 0) return null;
  const header = all[0].map((h) => h.trim());
  const lower = header.map((h) => h.toLowerCase());
  return { header, rows: all.slice(1), column: (name) => lower.indexOf(name.toLowerCase()) };
}

/** Rows as CSV text: fields quoted only where they need it, LF line ends, a final newline. */
export function formatCsvRows(rows: readonly (readonly (string | number)[])[]): string {
  return csvFormatRows(rows.map((r) => r.map(String))) + '\n';
}
