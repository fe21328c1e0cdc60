/** The spectrogram of the selected file with the CAM overlay, the pointer readout, its warnings and the class probabilities. */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import type { Spectrogram } from '../../core/eeg/parquet';
import { camOnSpectrogram } from '../../core/eeg/pipeline';
import { EEG_CHAINS, type EegVotes } from '../../core/presets/eeg';
import { useKit, useSelectedItem } from '../kit/hooks';
import { EmptyHero, NotShown } from '../kit/ViewControls';
import { canvasPoint } from '../view2d/canvas';
import { CamControls } from '../view2d/CamControls';
import { HOT } from '../view2d/colour';
import { ClassBars } from '../view2d/ClassBars';
import { CANVAS_H, CANVAS_W, LAYOUT, drawSpectrogram, logPower } from './display';
import { eegShare, eegStore as store, type EegMeta, type EegView as View } from './page';

const setView = (patch: Partial<View>) => store.setState((s) => ({ view: { ...s.view, ...patch } }));

export function EegView() {
  const shown = useSelectedItem<Spectrogram>(store);
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const view = useKit(store, (s) => s.view);
  const classes = useKit(store, (s) => s.params.classes);
  const clip = useKit(store, (s) => s.params.clip);
  const canvas = useRef<HTMLCanvasElement>(null);
  const spec = shown?.item ?? null;
  const log = useMemo(() => (spec ? logPower(spec, clip) : null), [spec, clip]);
  const result = entry?.status === 'done' ? entry.result : undefined;
  const camLabel = result?.cam?.source === 'occlusion' ? 'occlusion' : 'CAM';
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || !spec || !log) return;
    drawSpectrogram(ctx, { spec, log, window: result?.window ?? null, cam: result?.cam ?? null, cls: view.cls, showCam: view.showCam, opacity: view.opacity, className: classes[view.cls] ?? '' });
  }, [spec, log, result, view, classes]);
  const [readout, setReadout] = useState<string | null>(null);
  const camFull = useMemo(() => (result?.cam ? camOnSpectrogram(result.cam, Math.min(view.cls, result.cam.shape[0] - 1), 400, result.window.rows) : null), [result, view.cls]);
  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!spec) return;
    const [cx, cy] = canvasPoint(e, CANVAS_W, CANVAS_H);
    const x = cx - LAYOUT.left;
    const y = cy - LAYOUT.top;
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
      `row ${t} · ${spec.time[t]} s · ${EEG_CHAINS[c]} ${spec.freqs[bin]} Hz · power ${Number.isNaN(v) ? 'NaN' : v.toPrecision(4)}` + (cv !== null ? ` · ${camLabel} ${classes[view.cls]} ${cv.toFixed(2)}` : ''),
    );
  };
  const meta = entry?.meta as EegMeta | undefined;
  const warnings = [...new Set([...(entry?.warnings ?? []), ...(entry?.row?.warnings ?? [])])];
  return (
    <div className="eeg-view" data-testid="eeg-view">
      <div className="eeg-view-bar row">
        <span className="mono grow" data-testid="eeg-view-title">
          {entry ? `${meta?.name ?? entry.sourceLabel}${meta ? ` · ${meta.rows} rows (${(meta.rows * 2).toFixed(0)} s) · time ${meta.timeType}${meta.nanCount ? ` · ${meta.nanCount} NaN` : ''}` : ''}` : 'No spectrogram'}
        </span>
        <CamControls
          show={view.showCam}
          onShow={(showCam) => setView({ showCam })}
          label={camLabel}
          options={classes}
          cls={view.cls}
          onClass={(cls) => setView({ cls })}
          opacity={view.opacity}
          onOpacity={(opacity) => setView({ opacity })}
          ids={{ show: 'eeg-show-cam', cls: 'eeg-cam-class', opacity: 'eeg-opacity' }}
          ramp={HOT}
        />
      </div>
      <div className="eeg-canvas-wrap" data-gallery-region>
        {spec ? (
          <canvas ref={canvas} width={CANVAS_W} height={CANVAS_H} className="eeg-canvas" data-testid="eeg-canvas" onMouseMove={onMove} onMouseLeave={() => setReadout(null)} />
        ) : (
          <div className="eeg-empty muted">
            <NotShown entry={entry} errorClassName="eeg-file-error" empty={<EmptyEeg />} />
          </div>
        )}
      </div>
      <div className="eeg-readout small mono muted" data-testid="eeg-readout">
        {readout ?? (spec ? 'Hover the spectrogram for values.' : '')}
      </div>
      {warnings.length > 0 && (
        <div className="eeg-warnings small" data-testid="eeg-warnings">
          {warnings.map((w) => (
            <div key={w}>⚠ {w}</div>
          ))}
        </div>
      )}
      {result && entry && <Probabilities id={entry.id} />}
    </div>
  );
}

/** What to drop, and the demo. */
function EmptyEeg() {
  return (
    <EmptyHero store={store} className="kit-hero" title="Classify EEG spectrograms, with class activation maps" openDemo={() => eegShare.openDemo()} demo="Run the demo: three spectrograms, votes, a small CAM model" testId="eeg-demo-hero">
      Drop HMS spectrogram <span className="mono">.parquet</span> files, an <span className="mono">.onnx</span> model (or several folds) and optionally a votes{' '}
      <span className="mono">.csv</span>. Everything runs in this browser.
    </EmptyHero>
  );
}

/** The class probabilities of a finished file: the mean over the models, each fold's value, the expert vote share. */
function Probabilities({ id }: { id: string }) {
  const result = useKit(store, (s) => s.items.find((t) => t.id === id)?.result);
  const classes = useKit(store, (s) => s.params.classes);
  const votes = useKit(store, (s) => s.labels?.parsed as EegVotes | undefined);
  const cls = useKit(store, (s) => s.view.cls);
  if (!result) return null;
  const target = votes?.rows.get(id)?.target ?? null;
  const n = result.folds.length;
  const map = result.cam?.source === 'occlusion' ? 'occlusion map' : 'CAM';
  return (
    <div className="eeg-chart">
      <ClassBars
        classes={classes}
        values={result.probabilities}
        folds={result.folds.map((f) => ({ name: f.model, values: f.probabilities }))}
        target={target}
        selected={cls}
        onPick={(k) => setView({ cls: k })}
        testId="eeg-chart"
        rowTestId={(_k, c) => `eeg-bar-${c}`}
        digits={3}
        pickHint={`show its ${map}`}
      />
      <div className="muted small">
        Bars: mean over {n} model{n === 1 ? '' : 's'}
        {n > 1 ? '; dots: each fold' : ''}
        {target ? '; red tick: the expert vote share' : ''}. Click a class to show its {map}.
      </div>
    </div>
  );
}
