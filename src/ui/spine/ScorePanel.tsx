/** Downloads (the selected series' masks as NIfTI in the CT's space, submission.csv) and, with labels, the weighted log loss per study. */
import { useMemo } from 'react';
import { spineStudyPredictions, type SpineRow } from '../../core/presets/spine';
import { spineMetric, type SpineLabel } from '../../core/spine/export';
import { useFinishedRows, useKit } from '../kit/hooks';
import { errorText } from '../kit/messages';
import { downloadExport } from '../kit/runner';
import { Panel } from '../Panel';
import { downloadMasks, spineStore as store } from './page';

const studies = (n: number): string => `${n} stud${n === 1 ? 'y' : 'ies'}`;

export function ScorePanel() {
  const rows = useFinishedRows<SpineRow>(store);
  const labels = useKit(store, (s) => s.labels);
  const params = useKit(store, (s) => s.params);
  const selected = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const submission = store.preset.exports[0];
  const nStudies = useMemo(() => spineStudyPredictions(rows).length, [rows]);
  const withFracture = submission.available?.(rows, params) ?? true;
  // the preset's metric (its score), and per study with core's spineMetric on the same predictions
  const metric = useMemo(() => {
    if (!labels || !withFracture || !store.preset.labels) return null;
    try {
      const report = store.preset.labels.metric(rows, labels.parsed, params);
      return { ok: { report, detail: spineMetric(labels.parsed as Map<string, SpineLabel>, spineStudyPredictions(rows)) } };
    } catch (e) {
      return { error: errorText(e) };
    }
  }, [labels, rows, params, withFracture]);
  return (
    <Panel title="Export & score" testId="spine-score">
      <div className="col">
        <button
          onClick={() => selected && void downloadMasks(selected.id, false)}
          disabled={selected?.status !== 'done'}
          data-testid="download-masks"
          title="0 = background, k = C_k; same shape, orientation and affine as the CT"
        >
          Masks of this series (.nii.gz)
        </button>
        <button onClick={() => downloadExport(store, 0)} disabled={!withFracture} data-testid="download-submission" title="row_id,fractured: {StudyInstanceUID}_C1..C7 and _patient_overall, one block per study">
          {submission.label} ({studies(nStudies)})
        </button>
        {rows.length > 0 && !withFracture && <div className="muted small">submission.csv needs a fracture (stage 2) model.</div>}
      </div>
      {labels && (
        <div className="spine-metric">
          <div className="subhead">Weighted log loss</div>
          {metric === null ? (
            <div className="muted small">Run with a fracture model to score against {labels.name}.</div>
          ) : 'error' in metric ? (
            <div className="run-error">{metric.error}</div>
          ) : (
            <>
              <div className="big-number" data-testid="spine-logloss" title={metric.ok.report.lines.join('\n')}>
                {metric.ok.report.score.toFixed(4)}
              </div>
              <table className="queue-table">
                <tbody>
                  {metric.ok.detail.perStudy.map((r) => (
                    <tr key={r.studyUid} data-testid="spine-logloss-study">
                      <td className="mono ellipsis" title={r.studyUid}>
                        {r.studyUid}
                      </td>
                      <td className="num-col">{r.loss.toFixed(4)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {metric.ok.detail.missing.length > 0 && (
                <div className="small warn" data-testid="spine-logloss-missing">
                  Not in the labels: {metric.ok.detail.missing.join(', ')}
                </div>
              )}
            </>
          )}
        </div>
      )}
    </Panel>
  );
}
