/** The Niivue view of the selected volume: the tissue labels as a label overlay in the volume's own space, a legend, opacity and slice layout. */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { BrainItem, BrainResult } from '../../core/presets/brain';
import { spatialShape, type Volume } from '../../core/volume';
import { fmtValue } from '../format';
import { useKit } from '../kit/hooks';
import { ensureItem } from '../kit/intake';
import { say } from '../kit/messages';
import { EmptyHero, SliceButtons, ViewerCanvas, ViewRange, ViewToggle } from '../kit/ViewControls';
import { labelColor, labelName, voxelAt } from '../overlay';
import type { SliceView } from '../store';
import { attachCanvas, setSliceView, showBase, showOverlay, styleOverlay, type OverlayStyle } from '../viewer';
import { brainStore as store, openBrainMriDemo, type BrainMeta } from './page';

const SLICES: Partial<Record<SliceView, string>> = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal', multiplanar: 'Multiplanar', render: '3D' };

const metaOf = (t: { meta?: unknown } | null | undefined): BrainMeta | undefined => t?.meta as BrainMeta | undefined;
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function BrainView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [viewError, setViewError] = useState<string | null>(null);
  /** The volume the viewer shows (its grid and affine). */
  const [shown, setShown] = useState<{ id: string; volume: Volume } | null>(null);
  const view = useKit(store, (s) => s.view);
  const selected = useKit(store, (s) => s.selected);
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const names = useKit(store, (s) => s.params.labels);
  const nItems = useKit(store, (s) => s.items.length);
  const loaded = metaOf(entry) !== undefined;
  const result = entry?.status === 'done' ? (entry.result as BrainResult | undefined) : undefined;

  // the voxel clicked: its index, intensity and tissue label (the view's location, on the shown volume's grid)
  const [readout, setReadout] = useState<{ vox: [number, number, number]; value: number; label: number | null } | null>(null);
  const shownRef = useRef(shown);
  shownRef.current = shown;
  const labelsRef = useRef<Uint8Array | null>(null);
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    attachCanvas(canvas)
      .then((nv) => {
        nv.onLocationChange = (loc: unknown) => {
          const cur = shownRef.current;
          if (!cur) return;
          const at = voxelAt(cur.volume.affine, (loc as { mm: ArrayLike<number> }).mm, spatialShape(cur.volume));
          if (!at) {
            setReadout(null);
            return;
          }
          setReadout({ vox: at.ijk, value: Number(cur.volume.data[at.index]), label: labelsRef.current?.[at.index] ?? null });
        };
      })
      .catch((e: unknown) => setViewError(`The 3D view could not start (WebGL2 is needed): ${errorText(e)}`));
  }, []);

  // the base volume: the selected one once it is read
  useEffect(() => {
    let live = true;
    if (!selected || !loaded) {
      setShown(null);
      void showBase(null);
      return;
    }
    void (async () => {
      const item = (await ensureItem(store, selected, true)) as BrainItem | null;
      if (!live) return;
      if (!item) {
        setShown(null);
        void showBase(null);
        return;
      }
      try {
        await showBase(item.volume);
        if (live) setShown({ id: item.id, volume: item.volume });
      } catch (e) {
        if (live) say('error', `Could not display ${selected}: ${errorText(e)}`);
      }
    })();
    return () => {
      live = false;
    };
  }, [selected, loaded]);

  useEffect(() => {
    if (shown) setSliceView(view.sliceType);
  }, [view.sliceType, shown]);

  // the labels of the shown volume, on its grid
  const labels = result && shown && shown.id === result.id ? result : null;
  labelsRef.current = labels?.labels ?? null;
  // another volume, or its labels came or went: the readout is read again at the next click
  useEffect(() => setReadout(null), [shown, labels]);
  const style: OverlayStyle = useMemo(() => ({ colormap: 'gray', opacity: view.opacity, calMin: 0, calMax: 1, visible: view.showLabels }), [view.opacity, view.showLabels]);
  const styleRef = useRef(style);
  const namesRef = useRef(names);
  namesRef.current = names;
  useEffect(() => {
    if (!shown) return;
    const data = labels ? { kind: 'labels' as const, data: labels.labels, ref: shown.volume, nLabels: labels.classes, labelNames: namesRef.current } : null;
    showOverlay(data, styleRef.current).catch((e: unknown) => say('error', `Could not display the tissue labels: ${errorText(e)}`));
  }, [labels, shown]);
  useEffect(() => {
    styleRef.current = style;
    styleOverlay(style);
  }, [style]);

  const meta = metaOf(entry);
  return (
    <section className="viewer kit-viewer">
      <Toolbar hasLabels={!!labels} />
      <ViewerCanvas canvasRef={canvasRef} viewError={viewError} empty={nItems === 0 && <Empty />}>
        {entry && !loaded && !entry.loadFailed && <div className="canvas-note">Reading {entry.id}…</div>}
        {entry?.loadFailed && <div className="canvas-note error">{entry.id}: {entry.error}</div>}
      </ViewerCanvas>
      {entry && labels && (
        <div className="view-legend-bar">
          <span className="muted">tissue labels</span>
          <Legend classes={labels.classes} names={names} />
        </div>
      )}
      <div className="readout rows" data-testid="brain-view-info">
        {entry ? (
          <>
            <div className="readout-row">
              <span className="shrink" title={entry.id}>
                {entry.id}
              </span>
              {meta && (
                <span>
                  <span className="muted">D×H×W</span> {meta.shape.join('×')} <span className="muted">at</span> {meta.spacing.map((x) => fmtValue(x)).join('×')} mm
                </span>
              )}
              {result && (
                <span>
                  <span className="muted">conformed</span> {result.conformed.kept ? 'as is (256³ LIA)' : result.conformed.shape.join('×')}
                </span>
              )}
            </div>
            {readout && (
              <div className="readout-row">
                <span data-testid="brain-readout-voxel">
                  <span className="muted">voxel (i,j,k)</span> {readout.vox.join(', ')} <span className="muted">value</span> {fmtValue(readout.value)}
                  {readout.label !== null && <LabelName label={readout.label} names={names} />}
                </span>
              </div>
            )}
          </>
        ) : (
          <span className="muted">No volume selected.</span>
        )}
      </div>
    </section>
  );
}

/** A label's name in its overlay colour (background in the text's own). */
function LabelName({ label, names }: { label: number; names: string[] }) {
  const [r, g, b] = labelColor(label);
  return <b style={label === 0 ? undefined : { color: `rgb(${r},${g},${b})` }}> {labelName(label, names)}</b>;
}

/** Colour and name of each label, as the overlay draws them (label 0 is not drawn). */
function Legend({ classes, names }: { classes: number; names: string[] }) {
  return (
    <span className="kit-legend" data-testid="brain-legend">
      {Array.from({ length: classes }, (_, k) => {
        const [r, g, b] = labelColor(k);
        return (
          <span key={k} className="legend-item" data-testid={`brain-legend-${k}`}>
            <span className={`swatch ${k === 0 ? 'clear' : ''}`} style={k === 0 ? undefined : { background: `rgb(${r},${g},${b})` }} />
            {labelName(k, names)}
          </span>
        );
      })}
    </span>
  );
}

function Toolbar({ hasLabels }: { hasLabels: boolean }) {
  const view = useKit(store, (s) => s.view);
  const set = (patch: Partial<typeof view>) => store.setState((s) => ({ view: { ...s.view, ...patch } }));
  return (
    <div className="toolbar">
      <SliceButtons slices={SLICES} value={view.sliceType} onPick={(sliceType) => set({ sliceType })} testId="brain-slice" />
      <ViewToggle label="Tissue labels" title="Show the tissue labels over the volume" checked={view.showLabels} onChange={(showLabels) => set({ showLabels })} testId="brain-show-labels" />
      <ViewRange label="opacity" title="Opacity of the tissue labels" min={0} max={1} step={0.05} value={view.opacity} disabled={!hasLabels} onChange={(opacity) => set({ opacity })} testId="brain-opacity" ariaLabel="label opacity" />
    </div>
  );
}

function Empty() {
  return (
    <EmptyHero store={store} className="canvas-note hero" title="Grey and white matter of a brain MRI, with tissue volumes" openDemo={openBrainMriDemo} demo="Run the demo: MeshNet on a T1 scan" testId="brain-demo-hero">
      Drop T1-weighted <span className="mono">.nii</span>/<span className="mono">.nii.gz</span> volumes (any orientation and voxel size) and a tissue{' '}
      <span className="mono">.onnx</span> model with its card. Everything runs in this browser.
    </EmptyHero>
  );
}
