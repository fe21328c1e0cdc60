/** One row per vertebra of the selected series: volume, slice range, mean probability, fracture probability, each with a bar; a row click centres the view. */
import { patientOverallBasis } from '../../core/spine/export';
import type { VertebraRow } from '../../core/spine/pipeline';
import { useKit } from '../kit/hooks';
import { vertebraCss } from './display';
import { metaOf, spineStore as store } from './page';
import { centreView } from './SpineView';

function Bar({ value, max, testId, text, color, title }: { value: number; max: number; testId: string; text: string; color?: string; title?: string }) {
  const f = max > 0 && Number.isFinite(value) ? Math.max(0, Math.min(1, value / max)) : 0;
  return (
    <td className="num-col bar-cell" data-testid={testId} title={title}>
      <span className="bar" style={{ width: `${(100 * f).toFixed(1)}%`, background: color }} />
      <span className="bar-text">{text}</span>
    </td>
  );
}

export function VertebraTable() {
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const result = entry?.status === 'done' ? entry.row : undefined;
  const rows = result?.vertebrae ?? [];
  const hasFracture = rows.some((r) => r.fracture !== undefined);
  const maxMl = Math.max(0, ...rows.map((r) => r.volumeMl));
  const go = (r: VertebraRow) => {
    if (entry && r.centre) centreView(entry.id, r.centre);
  };
  return (
    <section className="motor-results spine-results">
      <div className="motor-results-head">
        <h2>Vertebrae</h2>
        <span className="muted small">
          {entry ? metaOf(entry)?.description || entry.id : 'no series'} · slice ranges in the series' own slices · click a row to go to the vertebra
        </span>
      </div>
      <div className="motor-results-scroll">
        <table className="motor-table spine-table" data-testid="spine-table">
          <thead>
            <tr>
              <th>vertebra</th>
              <th className="num-col">volume (ml)</th>
              <th className="num-col">slices</th>
              <th className="num-col">mean prob.</th>
              {hasFracture && <th className="num-col">fracture</th>}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={hasFracture ? 5 : 4} className="muted empty-row">
                  {entry?.status === 'running' ? 'Running…' : 'No results yet.'}
                </td>
              </tr>
            )}
            {rows.map((r, k) => (
              <tr
                key={r.name}
                onClick={() => go(r)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    go(r);
                  }
                }}
                tabIndex={r.centre ? 0 : -1}
                className={r.present ? '' : 'below'}
                data-testid={`spine-row-${r.name}`}
                title={r.centre ? `Go to ${r.name}` : `${r.name} was not found`}
              >
                <td>
                  <span className="swatch" style={{ background: vertebraCss(k) }} /> {r.name}
                  {!r.present && <span className="muted small"> (not found)</span>}
                </td>
                <Bar value={r.volumeMl} max={maxMl} testId="cell-volume" text={r.volumeMl.toFixed(2)} color={vertebraCss(k)} />
                <td className="num-col mono" data-testid="cell-slices">
                  {r.sliceRange ? `${r.sliceRange[0]}–${r.sliceRange[1]}` : '–'}
                </td>
                <Bar value={r.meanProb} max={1} testId="cell-prob" text={r.meanProb.toFixed(4)} />
                {hasFracture && <Bar value={r.fracture ?? NaN} max={1} testId="cell-fracture" text={r.fracture !== undefined ? r.fracture.toFixed(4) : '–'} color="#ef4444" title={r.fracture === undefined ? `${r.present ? 'no mask, so no crops' : 'not found on the CT'}: submission.csv gives it 0.5` : undefined} />}
              </tr>
            ))}
            {result?.patientOverall !== undefined && (
              <tr className="patient-row" data-testid="spine-row-patient_overall">
                <td>patient overall</td>
                <td colSpan={3} className="muted small" data-testid="patient-overall-basis">
                  {patientOverallBasis(rows, result.patientSource)}
                </td>
                <Bar value={result.patientOverall} max={1} testId="cell-fracture" text={result.patientOverall.toFixed(4)} color="#ef4444" />
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
