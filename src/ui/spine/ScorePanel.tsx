/** Downloads (masks as NIfTI in the CT's space, submission.csv) and, with labels, the weighted log loss per study. */
import { useMemo } from 'react';
import { Panel } from '../Panel';
import { downloadMasks, downloadSubmission, hasFractureValues, metricResult, predictions } from './actions';
import { useSpine } from './state';

export function ScorePanel() {
  const series = useSpine((s) => s.series);
  const labels = useSpine((s) => s.labels);
  const selected = useSpine((s) => s.series.find((t) => t.key === s.selected) ?? null);
  const preds = useMemo(() => predictions(series), [series]);
  const withFracture = hasFractureValues(preds);
  const metric = useMemo(() => {
    void labels;
    void series;
    try {
      return { ok: metricResult() };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }, [labels, series]);
  return (
    <Panel title="Export & score" testId="spine-score">
      <div className="col">
        <button onClick={() => selected && downloadMasks(selected.key, false)} disabled={selected?.status !== 'done'} data-testid="download-masks" title="0 = background, k = C_k; same shape, orientation and affine as the CT">
          Masks of this series (.nii.gz)
        </button>
        <button onClick={downloadSubmission} disabled={!withFracture} data-testid="download-submission" title="row_id,fractured: {StudyInstanceUID}_C1..C7 and _patient_overall, one block per study">
          submission.csv ({preds.length} stud{preds.length === 1 ? 'y' : 'ies'})
        </button>
        {preds.length > 0 && !withFracture && <div className="muted small">submission.csv needs a fracture (stage 2) model.</div>}
      </div>
      {labels && (
        <div className="spine-metric">
          <div className="subhead">Weighted log loss</div>
          {'error' in metric ? (
            <div className="run-error">{metric.error}</div>
          ) : metric.ok ? (
            <>
              <div className="big-number" data-testid="spine-logloss">
                {metric.ok.loss.toFixed(4)}
              </div>
              <table className="queue-table">
                <tbody>
                  {metric.ok.perStudy.map((r) => (
                    <tr key={r.studyUid} data-testid="spine-logloss-study">
                      <td className="mono ellipsis" title={r.studyUid}>
                        {r.studyUid}
                      </td>
                      <td className="num-col">{r.loss.toFixed(4)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {metric.ok.missing.length > 0 && (
                <div className="small warn" data-testid="spine-logloss-missing">
                  Not in the labels: {metric.ok.missing.join(', ')}
                </div>
              )}
            </>
          ) : (
            <div className="muted small">Run with a fracture model to score against {labels.name}.</div>
          )}
        </div>
      )}
    </Panel>
  );
}
