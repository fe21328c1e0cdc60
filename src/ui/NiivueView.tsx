/** The Niivue canvas: base volume, result overlay, slice layout, window/level and the crosshair readout. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { spatialShape } from '../core/volume';
import { Gallery } from './share/Gallery';
import { openBrainDemo } from './share/workbench';
import { channelOf, diffOnInput, labelsOf, labelsSoon, parityOf, rangeOf, warmRanges } from './derived';
import { fmtValue } from './format';
import { NumberInput } from './NumberInput';
import { labelCount, voxelAt } from './overlay';
import { initialView, useStore, type ResultState, type SliceView, type ViewState } from './store';
import {
  attachCanvas,
  baseImage,
  getNiivue,
  prefetchOverlays,
  setBaseWindow,
  setSliceView,
  viewerContextRestored,
  showBase,
  showOverlay,
  styleOverlay,
  type OverlayData,
  type OverlayStyle,
} from './viewer';

interface Location {
  mm: ArrayLike<number>;
}

const SLICES: { id: SliceView; label: string; key: string }[] = [
  { id: 'axial', label: 'Axial', key: 'A' },
  { id: 'coronal', label: 'Coronal', key: 'C' },
  { id: 'sagittal', label: 'Sagittal', key: 'S' },
  { id: 'multiplanar', label: 'Multiplanar', key: 'M' },
  { id: 'render', label: '3D', key: 'R' },
];

function overlayStyle(view: ViewState, result: ResultState | null): OverlayStyle {
  const parity = useStore.getState().parity;
  if (result && parity?.showDiff) {
    // the difference map: 0 (transparent) .. max |out - ref|
    const max = parityOf(result, parity).maxAbsDiff;
    return { colormap: 'hot', opacity: view.opacity, calMin: 0, calMax: max > 0 ? max : 1e-6, visible: view.showOverlay };
  }
  const hi = result ? rangeOf(result, view.channel)[1] : 1;
  return {
    colormap: view.colormap,
    opacity: view.opacity,
    calMin: view.threshold,
    calMax: hi > view.threshold ? hi : view.threshold + 1e-6,
    visible: view.showOverlay,
  };
}

function useOverlayStyle(): OverlayStyle {
  const view = useStore((s) => s.view);
  const result = useStore((s) => s.result);
  const parity = useStore((s) => s.parity);
  const { colormap, opacity, threshold, showOverlay: visible, channel } = view;
  return useMemo(
    () => overlayStyle({ ...initialView, colormap, opacity, threshold, showOverlay: visible, channel }, result),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- parity is read from the store inside
    [colormap, opacity, threshold, visible, channel, result, parity],
  );
}

export function NiivueView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [viewError, setViewError] = useState<string | null>(null);
  const volume = useStore((s) => s.volume);
  const result = useStore((s) => s.result);
  const labelNames = useStore((s) => s.labelNames);
  const overlayKind = useStore((s) => s.view.overlay);
  const channel = useStore((s) => s.view.channel);
  const sliceType = useStore((s) => s.view.sliceType);
  const baseMin = useStore((s) => s.view.baseMin);
  const baseMax = useStore((s) => s.view.baseMax);
  const style = useOverlayStyle();
  // bumped when the WebGL context comes back: the volume and overlay are shown again from the store
  const [glEpoch, setGlEpoch] = useState(0);

  // a lost WebGL context (GPU reset, too many contexts) is said; on its return Niivue starts again and redraws
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const lost = (e: Event) => {
      e.preventDefault(); // lets the browser restore it
      useStore.getState().addMessage('warning', 'The view lost its WebGL context (the GPU was reset or is busy); it is redrawn when the browser gives it back. Your volume and results are kept.', { key: 'webgl' });
    };
    const restored = () => {
      getNiivue()
        .init()
        .then(() => {
          viewerContextRestored();
          useStore.getState().clearMessages('webgl');
          useStore.getState().addMessage('info', 'The view got its WebGL context back and was redrawn.', { key: 'webgl' });
          setGlEpoch((n) => n + 1);
        })
        .catch((err: unknown) => setViewError(`The 3D view could not start again after losing its WebGL context: ${(err as Error).message ?? err}`));
    };
    canvas.addEventListener('webglcontextlost', lost);
    canvas.addEventListener('webglcontextrestored', restored);
    return () => {
      canvas.removeEventListener('webglcontextlost', lost);
      canvas.removeEventListener('webglcontextrestored', restored);
    };
  }, []);

  // attach once; wire the readout and the right-drag window/level back into the store
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    attachCanvas(canvas)
      .then((nv) => {
        nv.onLocationChange = (loc: unknown) => updateReadout(loc as Location);
        nv.onIntensityChange = (img) => {
          if (img !== baseImage()) return;
          useStore.getState().setView({ baseMin: img.cal_min ?? NaN, baseMax: img.cal_max ?? NaN });
        };
      })
      .catch((e: unknown) => setViewError(`The 3D view could not start (WebGL2 is needed): ${(e as Error).message ?? e}`));
  }, []);

  useEffect(() => {
    let live = true;
    showBase(volume?.volume ?? null)
      .then((img) => {
        if (!live || !img) return;
        useStore.getState().setView({ baseMin: img.cal_min ?? NaN, baseMax: img.cal_max ?? NaN });
        setSliceView(useStore.getState().view.sliceType);
      })
      .catch((e: unknown) => {
        if (live) useStore.getState().addMessage('error', `Could not display ${volume?.fileName}: ${(e as Error).message ?? e}`);
      });
    return () => {
      live = false;
    };
  }, [volume, glEpoch]);

  const parity = useStore((s) => s.parity);
  const derivedSeq = useStore((s) => s.derivedSeq);
  // what the overlay shows; its threshold, colours and opacity are the style (uniforms, no new data)
  const overlay = useMemo<OverlayData | null>(() => {
    if (!result || !volume || result.input !== volume.volume) return null;
    const diff = parity?.showDiff ? diffOnInput(result, parity, channel) : null;
    if (diff) return { kind: 'heatmap', data: diff, ref: result.input, nLabels: 0, labelNames: null };
    if (overlayKind === 'labels') {
      // one channel: label 1 above the threshold (the style's calMin); several: the argmax (computed once, between frames)
      const data = result.channels === 1 ? channelOf(result, 0) : labelsSoon(result, 0)?.map;
      if (!data) return null;
      return {
        kind: 'labels',
        data,
        ref: result.input,
        nLabels: labelCount(result.channels),
        labelNames,
      };
    }
    return { kind: 'heatmap', data: channelOf(result, channel), ref: result.input, nLabels: 0, labelNames: null };
    // derivedSeq: the label map became ready
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [result, volume, overlayKind, channel, labelNames, parity, derivedSeq]);

  useEffect(() => {
    showOverlay(overlay, overlayStyle(useStore.getState().view, useStore.getState().result)).catch((e: unknown) =>
      useStore.getState().addMessage('error', `Could not display the result: ${(e as Error).message ?? e}`),
    );
  }, [overlay, glEpoch]);

  // while idle: the ranges of every channel (threshold sliders), then the textures of the other overlays, so that switching draws at once
  useEffect(() => {
    if (!result || !volume || result.input !== volume.volume) return;
    let live = true;
    void warmRanges(result).then(() => {
      if (!live) return;
      const list: OverlayData[] = [];
      for (let c = 0; c < result.channels; c++) list.push({ kind: 'heatmap', data: channelOf(result, c), ref: result.input, nLabels: 0, labelNames: null });
      const labels = result.channels > 1 ? labelsSoon(result, 0) : null;
      if (labels) list.push({ kind: 'labels', data: labels.map, ref: result.input, nLabels: labelCount(result.channels), labelNames: null });
      return prefetchOverlays(list);
    });
    return () => {
      live = false;
    };
    // derivedSeq: the label map became ready
  }, [result, volume, derivedSeq]);
  useEffect(() => styleOverlay(style), [style]);
  useEffect(() => setBaseWindow(baseMin, baseMax), [baseMin, baseMax]);
  useEffect(() => {
    if (volume) setSliceView(sliceType);
  }, [sliceType, volume]);

  return (
    <section className="viewer">
      <ViewToolbar />
      <div className="canvas-wrap">
        <canvas ref={canvasRef} data-testid="niivue-canvas" />
        {viewError && <div className="canvas-note error">{viewError}</div>}
        {!volume && !viewError && <EmptyView />}
      </div>
      <ReadoutBar />
    </section>
  );
}

function EmptyView() {
  const busy = useStore((s) => s.busy);
  return (
    <div className="canvas-note hero">
      <div className="canvas-note-title">Run an ONNX model on a volume, in your browser</div>
      <div>
        Drop a volume (<span className="mono">.nii</span>, <span className="mono">.nii.gz</span>, <span className="mono">.mrc</span>,{' '}
        <span className="mono">.npy</span>) and an <span className="mono">.onnx</span> model anywhere on the page. Nothing leaves this machine.
      </div>
      <button className="primary big" onClick={() => void openBrainDemo()} disabled={busy !== null} data-testid="try-demo-hero">
        {busy ?? 'Try the demo: brain tissue segmentation (MeshNet)'}
      </button>
      <Gallery />
    </div>
  );
}

function ViewToolbar() {
  const sliceType = useStore((s) => s.view.sliceType);
  const baseMin = useStore((s) => s.view.baseMin);
  const baseMax = useStore((s) => s.view.baseMax);
  const setView = useStore((s) => s.setView);
  const hasVolume = useStore((s) => !!s.volume);
  const resetWindow = () => {
    const img = baseImage();
    if (img) setView({ baseMin: img.robust_min ?? img.global_min ?? NaN, baseMax: img.robust_max ?? img.global_max ?? NaN });
  };
  return (
    <div className="toolbar">
      <div className="seg" role="group" aria-label="Slice layout">
        {SLICES.map((s) => (
          <button
            key={s.id}
            className={sliceType === s.id ? 'on' : ''}
            onClick={() => setView({ sliceType: s.id })}
            data-testid={`slice-${s.id}`}
            title={`${s.label} view`}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div className="toolbar-group" title="Window of the base volume (right-drag on the image works too)">
        <span className="muted">Window</span>
        <NumberInput value={baseMin} onChange={(v) => setView({ baseMin: v })} disabled={!hasVolume} ariaLabel="window min" testId="window-min" />
        <span className="muted">–</span>
        <NumberInput value={baseMax} onChange={(v) => setView({ baseMax: v })} disabled={!hasVolume} ariaLabel="window max" testId="window-max" />
        <button className="ghost" onClick={resetWindow} disabled={!hasVolume} title="Robust range (2–98th percentile)">
          Auto
        </button>
      </div>
    </div>
  );
}

/** Computes the readout from our own arrays (exact model outputs, all channels). */
function updateReadout(loc: Location): void {
  const s = useStore.getState();
  const vol = s.volume?.volume;
  const mm: [number, number, number] = [loc.mm[0], loc.mm[1], loc.mm[2]];
  if (!vol) return;
  const shape = spatialShape(vol);
  const at = voxelAt(vol.affine, mm, shape);
  if (!at) {
    useStore.setState({ readout: { vox: null, mm, base: null, overlay: null, label: null } });
    return;
  }
  const { ijk: vox, index: idx } = at;
  const n = shape[0] * shape[1] * shape[2];
  const nc = Math.min(vol.data.length / n, 4);
  const base = Array.from({ length: nc }, (_, c) => vol.data[c * n + idx]);
  let overlay: number[] | null = null;
  let label: number | null = null;
  const r = s.result;
  if (r && r.input === vol) {
    overlay = Array.from({ length: Math.min(r.channels, 8) }, (_, c) => r.onInput[c * n + idx]);
    label = labelsOf(r, r.channels === 1 ? s.view.threshold : 0).map[idx];
  }
  useStore.setState({ readout: { vox, mm, base, overlay, label } });
}

function ReadoutBar() {
  const readout = useStore((s) => s.readout);
  const labelNames = useStore((s) => s.labelNames);
  const channel = useStore((s) => s.view.channel);
  const kind = useStore((s) => s.view.overlay);
  if (!readout) return <div className="readout muted">Click in the image to read voxel values.</div>;
  const { vox, mm, base, overlay, label } = readout;
  return (
    <div className="readout" data-testid="readout">
      <span>
        <span className="muted">mm</span> {mm.map((v) => v.toFixed(1)).join(', ')}
      </span>
      <span>
        <span className="muted">voxel (i,j,k)</span> {vox ? vox.join(', ') : 'outside'}
      </span>
      {base && (
        <span data-testid="readout-base">
          <span className="muted">input</span> {base.map(fmtValue).join(' / ')}
        </span>
      )}
      {label !== null && (
        <span data-testid="readout-label">
          <span className="muted">label</span> {label}
          {labelNames?.[label] ? ` ${labelNames[label]}` : ''}
        </span>
      )}
      {overlay && (
        <span className="shrink fill" data-testid="readout-overlay" title={`output ${overlay.map(fmtValue).join(' / ')}`}>
          <span className="muted">output</span>{' '}
          {overlay.map((v, c) => (
            <span key={c} className={kind === 'heatmap' && c === channel ? 'hl' : ''}>
              {c > 0 ? ' / ' : ''}
              {fmtValue(v)}
            </span>
          ))}
        </span>
      )}
    </div>
  );
}
