/**
 * The results table under a page's view, from column specs: a heading and a note, the table in its
 * own scroll box (a wide table scrolls instead of pushing the view aside), one row per result, a
 * row said while there is none. A column with a `sort` key sorts the rows when its head is clicked
 * (ascending, descending, then as given).
 */
import { useMemo, useState, type ReactNode } from 'react';
import './kit.css';

export interface TableColumn<R> {
  head: ReactNode;
  /** The head's tooltip. */
  title?: string;
  /** A number: right-aligned, monospaced ('num-col'). */
  num?: boolean;
  /** Class of the column's cells (or of each row's cell). */
  className?: string | ((row: R) => string);
  /** Test id of the column's cells ('cell-score'). */
  testId?: string;
  cell(row: R): ReactNode;
  /** A cell's tooltip. */
  cellTitle?(row: R): string | undefined;
  /** How many columns a row's cell spans (0: it is left out, under the span of one before it); default 1. */
  span?(row: R): number;
  /** The value the rows sort by when the head is clicked. */
  sort?(row: R): number | string;
}

/** What a row's <tr> gets: class, test id, tooltip, click; with a tabIndex, Enter / Space click it too. */
export interface RowProps {
  className?: string;
  testId?: string;
  title?: string;
  onClick?(): void;
  tabIndex?: number;
}

export interface ResultsTableProps<R> {
  title: string;
  /** After the title, small and muted (counts, units, what a click does). */
  note: ReactNode;
  /** Extra class of the section ('spine-results'). */
  className?: string;
  /** Extra class of the table ('spine-table'). */
  tableClassName?: string;
  testId: string;
  /** `false`: a column left out (one shown only with labels…). */
  columns: readonly (TableColumn<R> | false)[];
  rows: readonly R[];
  rowKey(row: R): string;
  row?(row: R): RowProps;
  /** Said in one row while there are no rows (default 'No results yet.'). */
  empty?: ReactNode;
  /** Rows after the results (a total). */
  foot?: ReactNode;
}

type Sort = { col: number; dir: 1 | -1 } | null;

const compare = (a: number | string, b: number | string): number => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)));

export function ResultsTable<R>({ title, note, className = '', tableClassName = '', testId, columns, rows, rowKey, row, empty = 'No results yet.', foot }: ResultsTableProps<R>) {
  const cols = columns.filter((c): c is TableColumn<R> => c !== false);
  const [sort, setSort] = useState<Sort>(null);
  const by = sort ? cols[sort.col]?.sort : undefined;
  const shown = useMemo(() => (by && sort ? [...rows].sort((a, b) => sort.dir * compare(by(a), by(b))) : rows), [rows, by, sort]);
  const next = (i: number): Sort => (sort?.col !== i ? { col: i, dir: 1 } : sort.dir === 1 ? { col: i, dir: -1 } : null);
  return (
    <section className={`kit-results ${className}`.trim()}>
      <div className="kit-results-head">
        <h2>{title}</h2>
        <span className="muted small">{note}</span>
      </div>
      <div className="kit-results-scroll">
        <table className={`kit-table ${tableClassName}`.trim()} data-testid={testId}>
          <thead>
            <tr>
              {cols.map((c, i) => (
                <th
                  key={i}
                  className={`${c.num ? 'num-col' : ''} ${c.sort ? 'sortable' : ''}`.trim() || undefined}
                  title={c.title ?? (c.sort ? 'Click to sort' : undefined)}
                  aria-sort={sort?.col === i ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined}
                  onClick={c.sort ? () => setSort(next(i)) : undefined}
                >
                  {c.head}
                  {sort?.col === i && <span className="sort-mark">{sort.dir === 1 ? ' ▲' : ' ▼'}</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={cols.length} className="muted empty-row">
                  {empty}
                </td>
              </tr>
            )}
            {shown.map((r) => {
              const p = row?.(r) ?? {};
              const go = p.onClick;
              return (
                <tr
                  key={rowKey(r)}
                  className={p.className?.trim() || undefined}
                  data-testid={p.testId}
                  title={p.title}
                  onClick={go}
                  tabIndex={p.tabIndex}
                  onKeyDown={
                    go && p.tabIndex !== undefined
                      ? (e) => {
                          if (e.target !== e.currentTarget || (e.key !== 'Enter' && e.key !== ' ')) return;
                          e.preventDefault();
                          go();
                        }
                      : undefined
                  }
                >
                  {cols.map((c, i) => {
                    const span = c.span?.(r) ?? 1;
                    if (span === 0) return null;
                    const cls = `${c.num ? 'num-col' : ''} ${typeof c.className === 'function' ? c.className(r) : (c.className ?? '')}`.trim();
                    return (
                      <td key={i} className={cls || undefined} colSpan={span > 1 ? span : undefined} data-testid={c.testId} title={c.cellTitle?.(r)}>
                        {c.cell(r)}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
            {foot}
          </tbody>
        </table>
      </div>
    </section>
  );
}
