/**
 * Score histogram with the cutoff, how the cutoff is chosen (the batch quantile, which moves with the
 * batch, or a fixed score threshold) and what it is, F-beta against labels, and the CSV download.
 */
import { useMemo } from 'react';
import type { TomogramLabel } from '../../core/motors/postprocess';
import { motorsCutoffText, type MotorsCutoff, type MotorsRow } from '../../core/presets/motors';
import { fmtValue } from '../format';
import { useKit } from '../kit/hooks';
import { downloadExport } from '../kit/runner';
import { setParams } from '../kit/store';
import { NumberInput } from '../NumberInput';
import { Panel } from '../Panel';
import { computeResults, histogram, niceTicks, type ResultRow, type Results } from './derive';
import { motorsStore as store } from './page';

/** The finished tomograms' rows in queue order (their detections without heatmaps). */
function useRows(): MotorsRow[] {
  const items = useKit(store, (s) => s.items);
  return useMemo(() => items.filter((t) => t.status === 'done' && t.row).map((t) => t.row as MotorsRow), [items]);
}

/** The results of the finished tomograms at the current cutoff (recomputed live, no model run). */
export function useResults(): Results {
  const rows = useRows();
  const cutoff = useKit(store, (s) => s.params.cutoff);
  const quantile = useKit(store, (s) => s.params.quantile);
  const scoreThreshold = useKit(store, (s) => s.params.scoreThreshold);
  const beta = useKit(store, (s) => s.params.beta);
  const dist = useKit(store, (s) => s.params.distanceThresholdAngstrom);
  const labels = useKit(store, (s) => s.labels);
  return useMemo(
    () => computeResults(rows, { cutoff, quantile, scoreThreshold, beta, distanceThresholdAngstrom: dist }, (labels?.parsed as TomogramLabel[] | undefined) ?? null),
    [rows, cutoff, quantile, scoreThreshold, beta, dist, labels],
  );
}

const setQuantile = (quantile: number) => setParams(store, { quantile });
const setScoreThreshold = (scoreThreshold: number) => setParams(store, { scoreThreshold });
const setCutoff = (cutoff: MotorsCutoff) => setParams(store, { cutoff });

const CUTOFFS: readonly { value: MotorsCutoff; label: string; title: string }[] = [
  { value: 'quantile', label: 'batch quantile', title: "The cutoff is a quantile of this batch's scores (the pipeline): the same tomogram may pass in one batch and not in another" },
  { value: 'score', label: 'fixed score', title: 'A fixed score threshold: the same for every batch' },
  { value: 'none', label: 'none', title: 'Every tomogram keeps its motor' },
];

/** The cutoff's meaning in one line, next to the table ('cutoff 0.8557 = the 0.545 quantile of this batch's 4 scores: …'). */
export function useCutoffText(results: Results): string {
  const p = useKit(store, (s) => s.params);
  return motorsCutoffText(results.cutoff, results.rows.length, p);
}

export function ScorePanel() {
  const results = useResults();
  const quantile = useKit(store, (s) => s.params.quantile);
  const mode = useKit(store, (s) => s.params.cutoff);
  const scoreThreshold = useKit(store, (s) => s.params.scoreThreshold);
  const cutoffText = useCutoffText(results);
  const nErr = useKit(store, (s) => s.items.filter((t) => t.status === 'error').length);
  const n = results.rows.length;
  const passing = results.rows.filter((r) => r.passes).length;
  return (
    <Panel title="Scores & threshold" testId="motor-scores">
      {n === 0 ? (
        <p className="muted small">Scores appear here as tomograms finish.</p>
      ) : (
        <ScoreHistogram rows={results.rows} cutoff={results.cutoff} label={mode === 'quantile' ? `cutoff q=${fmtValue(quantile)} → ${fmtValue(results.cutoff)}` : `cutoff ${fmtValue(results.cutoff)} (fixed)`} hasLabels={results.metric !== null} />
      )}
      <div className="seg cutoff-mode" role="radiogroup" aria-label="cutoff" data-testid="cutoff-mode">
        {CUTOFFS.map((c) => (
          <button key={c.value} className={mode === c.value ? 'on' : ''} role="radio" aria-checked={mode === c.value} onClick={() => setCutoff(c.value)} title={c.title} data-testid={`cutoff-${c.value}`}>
            {c.label}
          </button>
        ))}
      </div>
      {mode === 'score' && (
        <div className="field quantile-field">
          <span title="A tomogram keeps its motor when its score is above this, whatever the batch">Score threshold</span>
          <span className="slider">
            <input type="range" min={0} max={1} step={0.005} value={Math.min(1, scoreThreshold)} onChange={(e) => setScoreThreshold(Number(e.target.value))} data-testid="score-threshold-slider" aria-label="score threshold" />
            <NumberInput value={scoreThreshold} min={0} onChange={setScoreThreshold} testId="score-threshold-input" ariaLabel="score threshold value" className="slider-num" />
          </span>
        </div>
      )}
      <div className="field quantile-field" hidden={mode !== 'quantile'}>
        <span title="The cutoff is this quantile of the batch's scores (linear interpolation, as pandas); tomograms scoring at or below it get no motor (-1)">
          Quantile
        </span>
        <span className="slider">
          <input
            type="range"
            min={0}
            max={1}
            step={0.005}
            value={quantile}
            onChange={(e) => setQuantile(Number(e.target.value))}
            data-testid="quantile-slider"
            aria-label="quantile"
          />
          <NumberInput value={quantile} min={0} max={1} onChange={setQuantile} testId="quantile-input" ariaLabel="quantile value" className="slider-num" />
        </span>
      </div>
      {n > 0 && (
        <div className="small cutoff-line" data-testid="quantile-cutoff" title={cutoffText}>
          cutoff <span className="mono">{fmtValue(results.cutoff)}</span> · <b>{passing}</b> of {n} tomogram{n === 1 ? '' : 's'} keep their motor
        </div>
      )}
      <FBeta results={results} />
      <div className="save-row">
        <button className="primary" onClick={() => downloadExport(store)} disabled={n === 0} data-testid="download-submission" title="tomo_id,Motor axis 0,Motor axis 1,Motor axis 2 (original voxels; -1 below the cutoff)">
          Download submission.csv
        </button>
      </div>
      {nErr > 0 && n > 0 && <div className="muted small">{nErr} tomogram{nErr === 1 ? '' : 's'} with errors {nErr === 1 ? 'is' : 'are'} not in the file.</div>}
    </Panel>
  );
}

function FBeta({ results }: { results: Results }) {
  const labels = useKit(store, (s) => s.labels);
  const beta = useKit(store, (s) => s.params.beta);
  const dist = useKit(store, (s) => s.params.distanceThresholdAngstrom);
  const m = results.metric;
  if (!labels) return <div className="muted small fbeta-none">Add a labels CSV for distances, TP/FP/FN and the F-beta score.</div>;
  if (!m) return <div className="muted small fbeta-none">No finished tomogram is in {labels.name}.</div>;
  const scored = m.perTomogram.length;
  const thr = m.perTomogram[0]?.threshold;
  return (
    <div className="fbeta-block">
      <div className="fbeta-main">
        <span className="fbeta-label">F{fmtValue(beta)}</span>
        <span className="fbeta-value" data-testid="fbeta">
          {m.fbeta.toFixed(4)}
        </span>
      </div>
      <div className="fbeta-counts" data-testid="fbeta-counts">
        <span className="oc oc-TP">TP {m.tp}</span>
        <span className="oc oc-FP">FP {m.fp}</span>
        <span className="oc oc-FN">FN {m.fn}</span>
        <span className="oc oc-TN">TN {m.tn}</span>
      </div>
      <div className="muted small">
        precision {m.precision.toFixed(3)} · recall {m.recall.toFixed(3)} · {scored} of {(labels.parsed as TomogramLabel[]).length} labelled tomograms scored
        {thr !== undefined && ` · TP within ${fmtValue(dist)} Å${m.perTomogram.every((r) => r.threshold === thr) ? ` = ${fmtValue(thr)} voxels` : ''}`}
      </div>
    </div>
  );
}

const W = 316;
const H = 170;
const M = { l: 34, r: 10, t: 16, b: 44 };

function ScoreHistogram({ rows, cutoff, label, hasLabels }: { rows: ResultRow[]; cutoff: number; label: string; hasLabels: boolean }) {
  const hist = useMemo(() => histogram(rows.map((r) => r.score), cutoff, Math.min(24, Math.max(8, Math.round(rows.length / 2)))), [rows, cutoff]);
  const iw = W - M.l - M.r;
  const ih = H - M.t - M.b;
  const x = (v: number) => M.l + ((v - hist.lo) / (hist.hi - hist.lo)) * iw;
  const maxCount = Math.max(1, ...hist.counts);
  const y = (c: number) => M.t + ih - (c / maxCount) * (ih - 8);
  const xt = niceTicks(hist.lo, hist.hi, 5);
  const yt = niceTicks(0, maxCount, Math.min(4, maxCount)).filter((v) => Number.isInteger(v));
  const cx = Number.isFinite(cutoff) ? x(cutoff) : null;
  const colour = (r: ResultRow) => (!hasLabels || !r.label ? 'var(--text-2)' : r.label.motors.length > 0 ? 'var(--true-motor)' : 'var(--no-motor)');
  return (
    <figure className="histogram">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="Histogram of scores with the quantile cutoff" data-testid="score-histogram">
        {/* grid and axes */}
        {yt.map((v) => (
          <g key={`y${v}`}>
            <line x1={M.l} x2={W - M.r} y1={y(v)} y2={y(v)} className="h-grid" />
            <text x={M.l - 5} y={y(v) + 3.5} className="h-tick" textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        {hist.counts.map((c, i) =>
          c > 0 ? (
            <rect
              key={i}
              x={x(hist.edges[i]) + 0.5}
              y={y(c)}
              width={Math.max(1, x(hist.edges[i + 1]) - x(hist.edges[i]) - 1)}
              height={M.t + ih - y(c)}
              className={cutoff < hist.edges[i + 1] && hist.edges[i] >= cutoff ? 'h-bar pass' : 'h-bar'}
            >
              <title>
                {c} tomogram{c === 1 ? '' : 's'} with score {fmtValue(hist.edges[i])} – {fmtValue(hist.edges[i + 1])}
              </title>
            </rect>
          ) : null,
        )}
        <line x1={M.l} x2={W - M.r} y1={M.t + ih} y2={M.t + ih} className="h-axis" />
        <line x1={M.l} x2={M.l} y1={M.t} y2={M.t + ih} className="h-axis" />
        {xt.map((v) => (
          <g key={`x${v}`}>
            <line x1={x(v)} x2={x(v)} y1={M.t + ih} y2={M.t + ih + 4} className="h-axis" />
            <text x={x(v)} y={M.t + ih + 14} className="h-tick" textAnchor="middle">
              {fmtValue(v)}
            </text>
          </g>
        ))}
        {/* one mark per tomogram just above the axis: filled = keeps its motor */}
        {rows.map((r) => (
          <circle key={r.id} cx={x(r.score)} cy={M.t + ih - 4} r={3.2} fill={r.passes ? colour(r) : 'none'} stroke={colour(r)} strokeWidth={1.3} className="h-rug">
            <title>
              {r.id}: score {r.score.toFixed(4)} {r.passes ? '(motor kept)' : '(below the cutoff: -1)'}
              {r.label ? (r.label.motors.length > 0 ? ', has a motor' : ', no motor') : ''}
            </title>
          </circle>
        ))}
        {cx !== null && (
          <g data-testid="histogram-cutoff">
            <line x1={cx} x2={cx} y1={M.t - 4} y2={M.t + ih} className="h-cutoff" />
            <text x={Math.min(Math.max(cx, M.l + 40), W - M.r - 40)} y={M.t - 6} className="h-cutoff-label" textAnchor="middle">
              {label}
            </text>
          </g>
        )}
        <text x={M.l + iw / 2} y={H - 16} className="h-label" textAnchor="middle">
          score (max of the summed heatmap)
        </text>
        <text x={11} y={M.t + ih / 2} className="h-label" textAnchor="middle" transform={`rotate(-90 11 ${M.t + ih / 2})`}>
          tomograms
        </text>
        {/* legend */}
        <g transform={`translate(${M.l}, ${H - 5})`} className="h-legend">
          <circle cx={4} cy={-3} r={3} fill="var(--text-2)" />
          <text x={10} y={0}>kept</text>
          <circle cx={44} cy={-3} r={3} fill="none" stroke="var(--text-2)" />
          <text x={50} y={0}>below cutoff</text>
          {hasLabels && (
            <>
              <circle cx={124} cy={-3} r={3} fill="var(--true-motor)" />
              <text x={130} y={0}>has motor</text>
              <circle cx={190} cy={-3} r={3} fill="var(--no-motor)" />
              <text x={196} y={0}>no motor (labels)</text>
            </>
          )}
        </g>
      </svg>
    </figure>
  );
}
