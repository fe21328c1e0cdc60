/** The spectrogram of the selected file with the CAM overlay, the class probabilities and the results table. */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { camOnSpectrogram } from '../../core/eeg/pipeline';
import { EEG_CHAINS } from '../../core/presets/eeg';
import { eegScore } from './actions';
import { CANVAS_H, CANVAS_W, LAYOUT, drawSpectrogram, logPower } from './display';
import { useEeg, type EegFile } from './state';

export function EegView() {
  const files = useEeg((s) => s.files);
  const selected = useEeg((s) => s.selected);
  const view = useEeg((s) => s.view);
  const params = useEeg((s) => s.params);
  const file = files.find((f) => f.id === selected) ?? null;
  const canvas = useRef<HTMLCanvasElement>(null);
  const spec = file?.spec ?? null;
  const log = useMemo(() => (spec ? logPower(spec, params.clip) : null), [spec, params.clip]);
  const result = file?.status === 'done' ? file.result : undefined;
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || !spec || !log) return;
    drawSpectrogram(ctx, {
      spec,
      log,
      window: result?.window ?? null,
      cam: result?.cam ?? null,
      cls: view.cls,
      showCam: view.showCam,
      opacity: view.opacity,
      className: params.classes[view.cls] ?? '',
    });
  }, [spec, log, result, view, params.classes]);
  const setView = (patch: Partial<typeof view>) => useEeg.setState((s) => ({ view: { ...s.view, ...patch } }));
  const [readout, setReadout] = useState<string | null>(null);
  const camFull = useMemo(
    () => (result?.cam ? camOnSpectrogram(result.cam, Math.min(view.cls, result.cam.shape[0] - 1), 400, result.window.rows) : null),
    [result, view.cls],
  );
  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!spec) return;
    const box = e.currentTarget.getBoundingClientRect();
    const x = ((e.clientX - box.left) * CANVAS_W) / box.width - LAYOUT.left;
    const y = ((e.clientY - box.top) * CANVAS_H) / box.height - LAYOUT.top;
    const c = Math.floor(y / (LAYOUT.panelH + LAYOUT.gap));
    const yy = y - c * (LAYOUT.panelH + LAYOUT.gap);
    if (x < 0 || x >= LAYOUT.plotW || c < 0 || c > 3 || yy >= LAYOUT.panelH) {
      setReadout(null);
      return;
    }
    const t = Math.min(spec.rows - 1, Math.floor(((x + 0.5) * spec.rows) / LAYOUT.plotW));
    const bin = 99 - Math.floor((yy * 100) / LAYOUT.panelH);
    const r = c * 100 + bin;
    const v = spec.data[r * spec.rows + t];
    const w = result?.window;
    const cv = camFull && w && t >= w.start && t < w.start + w.rows ? camFull[r * w.rows + (t - w.start)] : null;
    setReadout(
      `row ${t} · ${spec.time[t]} s · ${EEG_CHAINS[c]} ${spec.freqs[bin]} Hz · power ${Number.isNaN(v) ? 'NaN' : v.toPrecision(4)}` +
        (cv !== null ? ` · ${result?.cam?.source === 'occlusion' ? 'occlusion' : 'CAM'} ${params.classes[view.cls]} ${cv.toFixed(2)}` : ''),
    );
  };
  return (
    <div className="eeg-view" data-testid="eeg-view">
      <div className="eeg-view-bar row">
        <span className="mono grow" data-testid="eeg-view-title">
          {file ? `${file.name}${spec ? ` · ${spec.rows} rows (${(spec.rows * 2).toFixed(0)} s) · time ${spec.timeType}${spec.nanCount ? ` · ${spec.nanCount} NaN` : ''}` : ''}` : 'No spectrogram'}
        </span>
        <label className="row small">
          <input type="checkbox" checked={view.showCam} onChange={(e) => setView({ showCam: e.target.checked })} data-testid="eeg-show-cam" />
          {result?.cam?.source === 'occlusion' ? 'occlusion' : 'CAM'}
        </label>
        <select value={view.cls} onChange={(e) => setView({ cls: Number(e.target.value) })} data-testid="eeg-cam-class" aria-label="CAM class">
          {params.classes.map((c, i) => (
            <option key={c} value={i}>
              {c}
            </option>
          ))}
        </select>
        <label className="row small" title="CAM opacity">
          opacity
          <input type="range" min={0} max={1} step={0.05} value={view.opacity} onChange={(e) => setView({ opacity: Number(e.target.value) })} data-testid="eeg-opacity" />
        </label>
      </div>
      <div className="eeg-canvas-wrap" data-gallery-region>
        {spec ? (
          <canvas ref={canvas} width={CANVAS_W} height={CANVAS_H} className="eeg-canvas" data-testid="eeg-canvas" onMouseMove={onMove} onMouseLeave={() => setReadout(null)} />
        ) : (
          <div className="eeg-empty muted">
            {file?.error ? <span className="eeg-file-error">{file.error}</span> : 'Drop HMS spectrogram .parquet files, an .onnx model (or several folds) and optionally a votes .csv — or open the demo.'}
          </div>
        )}
      </div>
      <div className="eeg-readout small mono muted" data-testid="eeg-readout">
        {readout ?? (spec ? 'Hover the spectrogram for values.' : '')}
      </div>
      {file?.warnings.length ? (
        <div className="eeg-warnings small" data-testid="eeg-warnings">
          {[...new Set(file.warnings)].map((w) => (
            <div key={w}>⚠ {w}</div>
          ))}
        </div>
      ) : null}
      {result && <ProbabilityChart file={file!} />}
      <EegResultsTable />
    </div>
  );
}

function ProbabilityChart({ file }: { file: EegFile }) {
  const classes = useEeg((s) => s.params.classes);
  const votes = useEeg((s) => s.votes);
  const cls = useEeg((s) => s.view.cls);
  const r = file.result!;
  const target = votes?.rows.get(file.id)?.target;
  const W = 560;
  const H = 170;
  const pad = { l: 36, b: 24, t: 8 };
  const bw = (W - pad.l) / classes.length;
  const y = (p: number) => pad.t + (1 - p) * (H - pad.t - pad.b);
  return (
    <div className="eeg-chart" data-testid="eeg-chart">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" height={H} role="img" aria-label="class probabilities">
        {[0, 0.25, 0.5, 0.75, 1].map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={W} y1={y(t)} y2={y(t)} stroke="#444" strokeWidth={0.5} />
            <text x={pad.l - 4} y={y(t) + 3} fontSize={10} textAnchor="end" fill="#aaa">
              {t}
            </text>
          </g>
        ))}
        {classes.map((c, i) => {
          const p = r.probabilities[i];
          const x = pad.l + i * bw;
          return (
            <g key={c} onClick={() => useEeg.setState((s) => ({ view: { ...s.view, cls: i } }))} style={{ cursor: 'pointer' }} data-testid={`eeg-bar-${c}`}>
              <rect x={x + bw * 0.2} y={y(p)} width={bw * 0.6} height={y(0) - y(p)} fill={i === cls ? '#f0a030' : '#4c8ed9'} />
              <title>{`${c}: ${p.toFixed(4)} (mean of ${r.folds.length})${r.folds.map((f) => `\n${f.model}: ${f.probabilities[i].toFixed(4)}`).join('')}`}</title>
              {r.folds.length > 1 &&
                r.folds.map((f, k) => (
                  <circle key={k} cx={x + bw * (0.3 + (0.4 * k) / Math.max(1, r.folds.length - 1))} cy={y(f.probabilities[i])} r={3} fill="#fff" stroke="#000" strokeWidth={0.8} />
                ))}
              {target && <line x1={x + bw * 0.12} x2={x + bw * 0.88} y1={y(target[i])} y2={y(target[i])} stroke="#e04040" strokeWidth={2} />}
              <text x={x + bw / 2} y={H - 8} fontSize={11} textAnchor="middle" fill="#ddd">
                {c}
              </text>
              <text x={x + bw / 2} y={y(p) - 3} fontSize={10} textAnchor="middle" fill="#ddd">
                {p.toFixed(3)}
              </text>
            </g>
          );
        })}
      </svg>
      <div className="muted small">
        Bars: mean over {r.folds.length} model{r.folds.length === 1 ? '' : 's'}
        {r.folds.length > 1 ? '; dots: each fold' : ''}
        {target ? '; red line: the expert vote share' : ''}. Click a bar to show its {r.cam?.source === 'occlusion' ? 'occlusion map' : 'CAM'}.
      </div>
    </div>
  );
}

export function EegResultsTable() {
  const files = useEeg((s) => s.files);
  const classes = useEeg((s) => s.params.classes);
  const selected = useEeg((s) => s.selected);
  // subscribed so that the KL column follows new votes
  useEeg((s) => s.votes);
  const score = eegScore();
  const kl = new Map(score?.perFile.map((r) => [r.eegId, r.kl]));
  if (files.length === 0) return null;
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
            {score && <th>KL</th>}
          </tr>
        </thead>
        <tbody>
          {files.map((f) => {
            const p = f.status === 'done' ? f.result?.probabilities : undefined;
            const top = p ? p.indexOf(Math.max(...p)) : -1;
            return (
              <tr key={f.id} className={f.id === selected ? 'on' : ''} onClick={() => useEeg.setState({ selected: f.id })} data-testid={`eeg-row-${f.id}`}>
                <td className="mono ellipsis">{f.name}</td>
                <td className="mono">{f.id}</td>
                {p ? (
                  classes.map((c, i) => (
                    <td key={c} className={`num ${i === top ? 'top' : ''}`}>
                      {p[i].toFixed(4)}
                    </td>
                  ))
                ) : (
                  <td colSpan={classes.length} className={f.error ? 'eeg-file-error' : 'muted'}>
                    {f.error ?? f.status}
                  </td>
                )}
                <td>{top >= 0 ? classes[top] : ''}</td>
                {score && <td className="num">{kl.has(f.id) ? kl.get(f.id)!.toFixed(4) : '–'}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
