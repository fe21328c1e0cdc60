/** One row per finished tomogram: score, point, pass/fail at the cutoff, and with labels truth, distance and outcome. */
import type { Point3 } from '../../core/motors/pipeline';
import { useKit } from '../kit/hooks';
import { centreView } from './MotorsView';
import { motorsStore as store } from './page';
import { useCutoffText, useResults } from './ScorePanel';

const fmtPt = (p: readonly number[]): string => p.map((v) => v.toFixed(1)).join(', ');

export function ResultsTable() {
  const results = useResults();
  const { rows } = results;
  const cutoffText = useCutoffText(results);
  const selected = useKit(store, (s) => s.selected);
  const hasLabels = useKit(store, (s) => s.labels !== null);
  const pending = useKit(store, (s) => s.items.filter((t) => t.status !== 'done').length);
  return (
    <section className="motor-results">
      <div className="motor-results-head">
        <h2>Detections</h2>
        <span className="muted small">
          {rows.length} tomogram{rows.length === 1 ? '' : 's'}
          {pending > 0 ? ` · ${pending} not done` : ''} · coordinates in original voxels · click a row to go to its point
        </span>
        {rows.length > 0 && (
          <span className="small cutoff-note" data-testid="motor-cutoff-note">
            {cutoffText}
          </span>
        )}
      </div>
      <div className="motor-results-scroll">
        <table className="motor-table" data-testid="motor-table">
          <thead>
            <tr>
              <th>tomo_id</th>
              <th className="num-col">score</th>
              <th className="num-col">z</th>
              <th className="num-col">y</th>
              <th className="num-col">x</th>
              <th title={cutoffText}>passes</th>
              {hasLabels && (
                <>
                  <th title="True motor(s) from the labels, z, y, x">truth (z, y, x)</th>
                  <th className="num-col" title="Distance of the detected point to the nearest true motor, voxels (threshold in parentheses)">
                    distance
                  </th>
                  <th>outcome</th>
                </>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={hasLabels ? 9 : 6} className="muted empty-row">
                  No results yet.
                </td>
              </tr>
            )}
            {rows.map((r) => (
              <tr
                key={r.id}
                className={`${r.id === selected ? 'selected' : ''} ${r.passes ? '' : 'below'}`}
                onClick={() => centreView(r.id, r.point)}
                data-testid={`motor-row-${r.id}`}
                title={`Show ${r.id} at its detected point`}
              >
                <td className="mono">{r.id}</td>
                <td className="num-col" data-testid="cell-score">
                  {r.score.toFixed(4)}
                </td>
                <td className="num-col">{r.point[0].toFixed(1)}</td>
                <td className="num-col">{r.point[1].toFixed(1)}</td>
                <td className="num-col">{r.point[2].toFixed(1)}</td>
                <td data-testid="cell-passes">
                  <span className={`yn ${r.passes ? 'yes' : 'no'}`}>{r.passes ? 'yes' : 'no'}</span>
                </td>
                {hasLabels && (
                  <>
                    <td className="mono small">
                      {!r.label ? (
                        <span className="muted">not labelled</span>
                      ) : r.label.motors.length === 0 ? (
                        <span className="muted">no motor</span>
                      ) : (
                        r.label.motors.map((m, i) => (
                          <TruthLink key={i} id={r.id} point={m} />
                        ))
                      )}
                    </td>
                    <td className="num-col" data-testid="cell-distance">
                      {r.distance === null ? '–' : r.distance.toFixed(1)}
                      {r.threshold !== null && r.distance !== null && <span className="muted"> ({r.threshold.toFixed(0)})</span>}
                    </td>
                    <td data-testid="cell-outcome">{r.outcome ? <span className={`oc oc-${r.outcome}`}>{r.outcome}</span> : <span className="muted">–</span>}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
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
