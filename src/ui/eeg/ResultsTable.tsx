/** One row per spectrogram: its probabilities, the top class and, with votes, its KL divergence; a click shows it. */
import { useMemo } from 'react';
import { scoreEeg } from '../../core/eeg/metric';
import type { EegRow, EegVotes } from '../../core/presets/eeg';
import { useFinishedRows, useKit } from '../kit/hooks';
import { ResultsTable as KitResultsTable, type TableColumn } from '../kit/ResultsTable';
import type { ItemEntry } from '../kit/types';
import { eegStore as store, type EegMeta } from './page';

const probs = (t: ItemEntry): number[] | undefined => (t.status === 'done' ? (t.row as EegRow | undefined)?.probabilities : undefined);
const fileName = (t: ItemEntry): string => (t.meta as EegMeta | undefined)?.name ?? t.sourceLabel;

/** A class's probability; the first class's cell says the error (or the status) across them all while there are none. */
const classColumn = (c: string, i: number, n: number): TableColumn<ItemEntry> => ({
  head: c,
  className: (t) => (probs(t) ? 'num-col' : ''),
  span: (t) => (probs(t) ? 1 : i === 0 ? n : 0),
  cell: (t) => {
    const p = probs(t);
    if (!p) return <span className={t.error ? 'eeg-file-error' : 'muted'}>{t.error ?? t.status}</span>;
    return <span className={p[i] === Math.max(...p) ? 'eeg-top' : undefined}>{p[i].toFixed(4)}</span>;
  },
  sort: (t) => probs(t)?.[i] ?? -1,
});

export function ResultsTable() {
  const items = useKit(store, (s) => s.items);
  const classes = useKit(store, (s) => s.params.classes);
  const selected = useKit(store, (s) => s.selected);
  const votes = useKit(store, (s) => s.labels?.parsed as EegVotes | undefined);
  const eps = useKit(store, (s) => s.params.klEpsilon);
  const rows = useFinishedRows<EegRow>(store);
  const kl = useMemo(() => (votes && rows.length > 0 ? new Map(scoreEeg(rows, votes, eps).perFile.map((r) => [r.eegId, r.kl])) : null), [votes, rows, eps]);
  const columns: (TableColumn<ItemEntry> | false)[] = [
    { head: 'file', className: 'mono ellipsis eeg-file-cell', cellTitle: fileName, cell: fileName, sort: fileName },
    { head: 'eeg_id', className: 'mono', cell: (t) => t.id, sort: (t) => t.id },
    ...classes.map((c, i) => classColumn(c, i, classes.length)),
    { head: 'top', cell: (t) => (t.status === 'done' ? ((t.row as EegRow | undefined)?.top ?? '') : ''), sort: (t) => (t.row as EegRow | undefined)?.top ?? '' },
    kl !== null && { head: 'KL', num: true, cell: (t) => (kl.has(t.id) ? kl.get(t.id)!.toFixed(4) : '–'), sort: (t) => kl.get(t.id) ?? Infinity },
  ];
  if (items.length === 0) return null;
  return (
    <KitResultsTable
      title="Results"
      note={`${rows.length} of ${items.length} spectrogram${items.length === 1 ? '' : 's'} done · click a row to show it`}
      className="eeg-results"
      testId="eeg-table"
      columns={columns}
      rows={items}
      rowKey={(t) => t.id}
      row={(t) => ({ className: t.id === selected ? 'selected' : '', onClick: () => store.setState({ selected: t.id }), testId: `eeg-row-${t.id}` })}
    />
  );
}
