/** One row per vertebra of the selected series: volume, slice range, mean probability, fracture probability, each with a bar; a row click centres the view. */
import { patientOverallBasis } from '../../core/spine/export';
import type { VertebraRow } from '../../core/spine/pipeline';
import { useKit } from '../kit/hooks';
import { ResultsTable, type TableColumn } from '../kit/ResultsTable';
import { vertebraCss } from './display';
import { metaOf, spineStore as store } from './page';
import { centreView } from './SpineView';

const FRACTURE = '#ef4444';

/** A bar as long as value / max under the cell's text. */
function Bar({ value, max, text, color }: { value: number; max: number; text: string; color?: string }) {
  const f = max > 0 && Number.isFinite(value) ? Math.max(0, Math.min(1, value / max)) : 0;
  return (
    <>
      <span className="bar" style={{ width: `${(100 * f).toFixed(1)}%`, background: color }} />
      <span className="bar-text">{text}</span>
    </>
  );
}

type Row = VertebraRow & { k: number };

/** The columns; the volume bars scale to the largest vertebra. */
function columns(maxMl: number, hasFracture: boolean): (TableColumn<Row> | false)[] {
  return [
    {
      head: 'vertebra',
      cell: (r) => (
        <>
          <span className="swatch" style={{ background: vertebraCss(r.k) }} /> {r.name}
          {!r.present && <span className="muted small"> (not found)</span>}
        </>
      ),
    },
    { head: 'volume (ml)', num: true, className: 'bar-cell', testId: 'cell-volume', cell: (r) => <Bar value={r.volumeMl} max={maxMl} text={r.volumeMl.toFixed(2)} color={vertebraCss(r.k)} />, sort: (r) => r.volumeMl },
    { head: 'slices', num: true, className: 'mono', testId: 'cell-slices', cell: (r) => (r.sliceRange ? `${r.sliceRange[0]}–${r.sliceRange[1]}` : '–') },
    { head: 'mean prob.', num: true, className: 'bar-cell', testId: 'cell-prob', cell: (r) => <Bar value={r.meanProb} max={1} text={r.meanProb.toFixed(4)} />, sort: (r) => r.meanProb },
    hasFracture && {
      head: 'fracture',
      num: true,
      className: 'bar-cell',
      testId: 'cell-fracture',
      cellTitle: (r) => (r.fracture === undefined ? `${r.present ? 'no mask, so no crops' : 'not found on the CT'}: submission.csv gives it 0.5` : undefined),
      cell: (r) => <Bar value={r.fracture ?? NaN} max={1} text={r.fracture !== undefined ? r.fracture.toFixed(4) : '–'} color={FRACTURE} />,
      sort: (r) => r.fracture ?? -1,
    },
  ];
}

export function VertebraTable() {
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const result = entry?.status === 'done' ? entry.row : undefined;
  const rows = (result?.vertebrae ?? []).map((r, k) => ({ ...r, k }));
  const hasFracture = rows.some((r) => r.fracture !== undefined);
  const maxMl = Math.max(0, ...rows.map((r) => r.volumeMl));
  const go = (r: VertebraRow) => {
    if (entry && r.centre) centreView(entry.id, r.centre);
  };
  return (
    <ResultsTable
      title="Vertebrae"
      note={`${entry ? metaOf(entry)?.description || entry.id : 'no series'} · slice ranges in the series' own slices · click a row to go to the vertebra`}
      className="spine-results"
      tableClassName="spine-table"
      testId="spine-table"
      columns={columns(maxMl, hasFracture)}
      rows={rows}
      rowKey={(r) => r.name}
      row={(r) => ({ onClick: () => go(r), tabIndex: r.centre ? 0 : -1, className: r.present ? '' : 'below', testId: `spine-row-${r.name}`, title: r.centre ? `Go to ${r.name}` : `${r.name} was not found` })}
      empty={entry?.status === 'running' ? 'Running…' : 'No results yet.'}
      foot={
        result?.patientOverall !== undefined && (
          <tr className="patient-row" data-testid="spine-row-patient_overall">
            <td>patient overall</td>
            <td colSpan={3} className="muted small patient-basis" data-testid="patient-overall-basis">
              {patientOverallBasis(rows, result.patientSource)}
            </td>
            <td className="num-col bar-cell" data-testid="cell-fracture">
              <Bar value={result.patientOverall} max={1} text={result.patientOverall.toFixed(4)} color={FRACTURE} />
            </td>
          </tr>
        )
      }
    />
  );
}
