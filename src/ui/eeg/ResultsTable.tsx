/** One row per spectrogram: its probabilities, the top class and, with votes, its KL divergence; a click shows it. */
import { useMemo } from 'react';
import { scoreEeg } from '../../core/eeg/metric';
import type { EegRow, EegVotes } from '../../core/presets/eeg';
import { useFinishedRows, useKit } from '../kit/hooks';
import { eegStore as store, type EegMeta } from './page';

export function ResultsTable() {
  const items = useKit(store, (s) => s.items);
  const classes = useKit(store, (s) => s.params.classes);
  const selected = useKit(store, (s) => s.selected);
  const votes = useKit(store, (s) => s.labels?.parsed as EegVotes | undefined);
  const eps = useKit(store, (s) => s.params.klEpsilon);
  const rows = useFinishedRows<EegRow>(store);
  const kl = useMemo(() => (votes && rows.length > 0 ? new Map(scoreEeg(rows, votes, eps).perFile.map((r) => [r.eegId, r.kl])) : null), [votes, rows, eps]);
  if (items.length === 0) return null;
  return (
    <div className="eeg-table-wrap">
      <table className="eeg-table" data-testid="eeg-table">
        <thead>
          <tr>
            <th>file</th>
            <th>eeg_id</th>
            {classes.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>top</th>
            {kl && <th>KL</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((t) => {
            const row = t.status === 'done' ? t.row : undefined;
            const p = row?.probabilities;
            const top = p ? p.indexOf(Math.max(...p)) : -1;
            return (
              <tr key={t.id} className={t.id === selected ? 'on' : ''} onClick={() => store.setState({ selected: t.id })} data-testid={`eeg-row-${t.id}`}>
                <td className="mono ellipsis eeg-file-cell" title={(t.meta as EegMeta | undefined)?.name ?? t.sourceLabel}>
                  {(t.meta as EegMeta | undefined)?.name ?? t.sourceLabel}
                </td>
                <td className="mono">{t.id}</td>
                {p ? (
                  classes.map((c, i) => (
                    <td key={c} className={`num ${i === top ? 'top' : ''}`}>
                      {p[i].toFixed(4)}
                    </td>
                  ))
                ) : (
                  <td colSpan={classes.length} className={t.error ? 'eeg-file-error' : 'muted'}>
                    {t.error ?? t.status}
                  </td>
                )}
                <td>{row?.top ?? ''}</td>
                {kl && <td className="num">{kl.has(t.id) ? kl.get(t.id)!.toFixed(4) : '–'}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
