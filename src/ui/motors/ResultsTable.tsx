/** One row per finished tomogram: score, point, pass/fail at the cutoff, and with labels truth, distance and outcome. */
import type { Point3 } from '../../core/motors/pipeline';
import { useKit } from '../kit/hooks';
import { ResultsTable as KitResultsTable, type TableColumn } from '../kit/ResultsTable';
import type { ResultRow } from './derive';
import { centreView } from './MotorsView';
import { motorsStore as store } from './page';
import { useCutoffText, useResults } from './ScorePanel';

const fmtPt = (p: readonly number[]): string => p.map((v) => v.toFixed(1)).join(', ');

const axis = (head: string, k: number): TableColumn<ResultRow> => ({ head, num: true, cell: (r) => r.point[k].toFixed(1), sort: (r) => r.point[k] });

const COLUMNS: TableColumn<ResultRow>[] = [
  { head: 'tomo_id', className: 'mono', cell: (r) => r.id, sort: (r) => r.id },
  { head: 'score', num: true, testId: 'cell-score', cell: (r) => r.score.toFixed(4), sort: (r) => r.score },
  axis('z', 0),
  axis('y', 1),
  axis('x', 2),
  { head: 'passes', testId: 'cell-passes', cell: (r) => <span className={`yn ${r.passes ? 'yes' : 'no'}`}>{r.passes ? 'yes' : 'no'}</span>, sort: (r) => Number(r.passes) },
];

/** The columns shown with labels. */
const LABEL_COLUMNS: TableColumn<ResultRow>[] = [
  {
    head: 'truth (z, y, x)',
    title: 'True motor(s) from the labels, z, y, x',
    className: 'mono small',
    cell: (r) =>
      !r.label ? <span className="muted">not labelled</span> : r.label.motors.length === 0 ? <span className="muted">no motor</span> : r.label.motors.map((m, i) => <TruthLink key={i} id={r.id} point={m} />),
  },
  {
    head: 'distance',
    title: 'Distance of the detected point to the nearest true motor, voxels (threshold in parentheses)',
    num: true,
    testId: 'cell-distance',
    cell: (r) => (
      <>
        {r.distance === null ? '–' : r.distance.toFixed(1)}
        {r.threshold !== null && r.distance !== null && <span className="muted"> ({r.threshold.toFixed(0)})</span>}
      </>
    ),
    sort: (r) => r.distance ?? Infinity,
  },
  { head: 'outcome', testId: 'cell-outcome', cell: (r) => (r.outcome ? <span className={`oc oc-${r.outcome}`}>{r.outcome}</span> : <span className="muted">–</span>), sort: (r) => r.outcome ?? '' },
];

export function ResultsTable() {
  const results = useResults();
  const { rows } = results;
  const cutoffText = useCutoffText(results);
  const selected = useKit(store, (s) => s.selected);
  const hasLabels = useKit(store, (s) => s.labels !== null);
  const pending = useKit(store, (s) => s.items.filter((t) => t.status !== 'done').length);
  return (
    <KitResultsTable
      title="Detections"
      note={
        <>
          {`${rows.length} tomogram${rows.length === 1 ? '' : 's'}${pending > 0 ? ` · ${pending} not done` : ''} · coordinates in original voxels · click a row to go to its point`}
          {rows.length > 0 && (
            <span className="small cutoff-note" data-testid="motor-cutoff-note">
              {' '}
              {cutoffText}
            </span>
          )}
        </>
      }
      testId="motor-table"
      columns={(hasLabels ? [...COLUMNS, ...LABEL_COLUMNS] : COLUMNS).map((c) => (c.head === 'passes' ? { ...c, title: cutoffText } : c))}
      rows={rows}
      rowKey={(r) => r.id}
      row={(r) => ({ className: `${r.id === selected ? 'selected' : ''} ${r.passes ? '' : 'below'}`, onClick: () => centreView(r.id, r.point), testId: `motor-row-${r.id}`, title: `Show ${r.id} at its detected point` })}
    />
  );
}

function TruthLink({ id, point }: { id: string; point: Point3 }) {
  return (
    <button
      className="link truth-link"
      onClick={(e) => {
        e.stopPropagation();
        centreView(id, point);
      }}
      title="Go to the true motor"
    >
      {fmtPt(point)}
    </button>
  );
}
