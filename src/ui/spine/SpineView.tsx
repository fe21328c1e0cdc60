/** The Niivue view of the selected CT: window presets, the C1..C7 overlay with its legend and toggles, mask editing, a readout. */
import { useEffect, useRef, useState } from 'react';
import { VERTEBRAE } from '../../core/presets/spine';
import type { SpineItem } from '../../core/spine/item';
import { spatialShape } from '../../core/volume';
import { fmtValue } from '../format';
import { useKit } from '../kit/hooks';
import { EmptyHero, SliceButtons, ViewerCanvas, ViewRange, ViewToggle } from '../kit/ViewControls';
import { ensureItem } from '../kit/intake';
import { errorText, say } from '../kit/messages';
import { NumberInput } from '../NumberInput';
import { voxelAt } from '../overlay';
import { attachCanvas, centreOn, setBaseWindow, setSliceView, showBase } from '../viewer';
import { CT_WINDOWS, displayCt, vertebraCss, windowRange } from './display';
import { applyEdits, beginEdit, choosePen, downloadCorrected, endEdit, revertEdits, undo } from './editing';
import { currentLabels, editsOf, metaOf, openSpineDemo, spineStore as store, type SpineSliceView, type SpineUi, type SpineViewValues } from './page';
import { colourLabels, labelStyle, showLabels, styleOverlay } from './spineViewer';

const SLICES: Record<SpineSliceView, string> = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal', multiplanar: 'Multiplanar', render: '3D' };

const ui = (): SpineUi => store.getState().ui;
const setUi = (patch: Partial<SpineUi>): void => store.setState((s) => ({ ui: { ...s.ui, ...patch } }));
const setView = (patch: Partial<SpineViewValues>): void => store.setState((s) => ({ view: { ...s.view, ...patch } }));
const useView = (): SpineViewValues => useKit(store, (s) => s.view);

/** Goes to voxel [d, h, w] of a series: at once when it is shown, else once it is (selecting it). */
export function centreView(id: string, voxel: [number, number, number]): void {
  const shown = ui().shown;
  const now = shown?.id === id;
  if (now) centreOn(shown.ct, voxel);
  setUi({ centre: now ? null : { id, voxel } });
  if (store.getState().selected !== id) store.setState({ selected: id });
}

interface Readout {
  vox: [number, number, number];
  hu: number;
  label: number;
}

export function SpineView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [viewError, setViewError] = useState<string | null>(null);
  const [readout, setReadout] = useState<Readout | null>(null);
  const selected = useKit(store, (s) => s.selected);
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const view = useView();
  const nSeries = useKit(store, (s) => s.items.length);
  const grid = useKit(store, (s) => s.ui.shown);
  const editing = useKit(store, (s) => s.ui.editing !== null);
  const order = useKit(store, (s) => s.params.order);
  const ready = !!entry && !entry.loadFailed && metaOf(entry) !== undefined;
  const result = entry?.status === 'done' ? entry.result : undefined;
  const meta = metaOf(entry);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    attachCanvas(canvas)
      .then((nv) => {
        nv.onIntensityChange = () => undefined;
        nv.onLocationChange = (loc: unknown) => {
          const cur = ui().shown;
          if (!cur) return;
          const mm = (loc as { mm: ArrayLike<number> }).mm;
          const at = voxelAt(cur.ct.affine, mm, spatialShape(cur.ct));
          if (!at) {
            setReadout(null);
            return;
          }
          const [i, j, k] = at.ijk;
          const labels = currentLabels(store.getState().items.find((t) => t.id === cur.id));
          setReadout({ vox: [k, j, i], hu: cur.ct.data[at.index], label: labels?.[at.index] ?? 0 });
        };
      })
      .catch((e: unknown) => setViewError(`The 3D view could not start (WebGL2 is needed): ${(e as Error).message ?? e}`));
    return () => endEdit(true);
  }, []);

  // the base volume: the selected series once it is read (again after the slice order changed)
  useEffect(() => {
    let live = true;
    endEdit(true);
    const hide = () => {
      setUi({ shown: null });
      void showBase(null);
    };
    if (!selected || !ready) {
      hide();
      return;
    }
    void (async () => {
      const series = (await ensureItem(store, selected, true)) as SpineItem | null;
      if (!live) return;
      if (!series) {
        hide();
        return;
      }
      try {
        await showBase(displayCt(series.volume));
        if (!live) return;
        const v = store.getState().view;
        setBaseWindow(...windowRange(v.level, v.width));
        setSliceView(v.sliceType);
        const g = { id: selected, ct: series.volume };
        const centre = ui().centre;
        setUi({ shown: g, centre: centre?.id === selected ? null : centre });
        setReadout(null);
        if (centre?.id === selected) centreOn(g.ct, centre.voxel);
      } catch (e) {
        if (live) say('error', `Could not display ${selected}: ${errorText(e)}`);
      }
    })();
    return () => {
      live = false;
    };
  }, [selected, ready, order]);

  // the label overlay: the model's masks, or the corrected ones; hidden while they are the drawing
  const edits = editsOf(entry);
  useEffect(() => {
    if (!grid) return;
    const labels = !editing ? (currentLabels(store.getState().items.find((t) => t.id === grid.id)) ?? null) : null;
    const v = store.getState().view;
    showLabels(labels ? grid.ct : null, labels, labelStyle(v.opacity, v.showMasks), v.visible).catch((e: unknown) => say('error', `Could not display the masks: ${errorText(e)}`));
  }, [grid, result, edits, editing]);
  useEffect(() => styleOverlay(labelStyle(view.opacity, view.showMasks)), [view.opacity, view.showMasks]);
  useEffect(() => colourLabels(view.visible), [view.visible]);
  useEffect(() => {
    if (grid) setBaseWindow(...windowRange(view.level, view.width));
  }, [view.level, view.width, grid]);
  useEffect(() => {
    if (grid) setSliceView(view.sliceType);
  }, [view.sliceType, grid]);

  return (
    <section className="viewer spine-viewer">
      <ViewToolbar hasCt={!!grid} />
      <ViewerCanvas canvasRef={canvasRef} viewError={viewError} empty={nSeries === 0 && <EmptySpine />}>
        {entry && entry.status === 'loading' && <div className="canvas-note">Loading {entry.id}…</div>}
        {entry?.loadFailed && (
          <div className="canvas-note error" data-testid="spine-view-error">
            {entry.error}
          </div>
        )}
      </ViewerCanvas>
      {grid && result && <Legend />}
      {grid && result && <EditBar id={grid.id} />}
      <div className="readout rows" data-testid="spine-readout">
        {entry ? (
          <>
            <div className="readout-row">
              <span className="shrink" title={metaOf(entry)?.description || entry.id}>
                <span className="muted">series</span> {metaOf(entry)?.description || entry.id}
              </span>
              {meta && (
                <span>
                  <span className="muted">slices×rows×cols</span> {meta.shape.join('×')}
                </span>
              )}
              {meta && (
                <span>
                  <span className="muted">mm</span> {meta.spacing.map((x) => fmtValue(Number(x.toFixed(3)))).join(' × ')}
                </span>
              )}
            </div>
            {readout && (
              <div className="readout-row">
                <span data-testid="spine-readout-voxel">
                  <span className="muted">slice,row,col</span> {readout.vox.join(', ')} <span className="muted">HU</span> {fmtValue(readout.hu)}
                  {readout.label > 0 && <b style={{ color: vertebraCss(readout.label - 1) }}> {VERTEBRAE[readout.label - 1]}</b>}
                </span>
              </div>
            )}
          </>
        ) : (
          <span className="muted">No series selected.</span>
        )}
      </div>
    </section>
  );
}

function EmptySpine() {
  return (
    <EmptyHero store={store} className="canvas-note hero" title="Segment C1..C7 and score fractures in neck CT" openDemo={openSpineDemo} demo="Run the demo: a simulated neck CT, both models, labels" testId="spine-demo-hero">
      Drop a DICOM study folder (or several, or a <span className="mono">.nii.gz</span>), the segmentation <span className="mono">.onnx</span> (and optionally the
      fracture model and a labels <span className="mono">.csv</span>). Everything runs in this browser.
    </EmptyHero>
  );
}

function ViewToolbar({ hasCt }: { hasCt: boolean }) {
  const view = useView();
  return (
    <div className="toolbar">
      <SliceButtons slices={SLICES} value={view.sliceType} onPick={(sliceType) => setView({ sliceType })} testId="spine-slice" />
      <div className="seg" role="group" aria-label="CT window" title="CT window presets (level / width in HU)">
        {CT_WINDOWS.map((w) => (
          <button
            key={w.id}
            className={view.windowId === w.id ? 'on' : ''}
            onClick={() => setView({ level: w.level, width: w.width, windowId: w.id })}
            title={`${w.label}: level ${w.level}, width ${w.width} HU`}
            data-testid={`spine-window-${w.id}`}
          >
            {w.label}
          </button>
        ))}
      </div>
      <span className="toolbar-group" title="Window level and width (HU)">
        <span className="muted">L</span>
        <NumberInput value={view.level} onChange={(v) => setView({ level: v, windowId: '' })} disabled={!hasCt} ariaLabel="window level" testId="spine-window-level" />
        <span className="muted">W</span>
        <NumberInput value={view.width} min={1} onChange={(v) => setView({ width: v, windowId: '' })} disabled={!hasCt} ariaLabel="window width" testId="spine-window-width" />
      </span>
      <ViewToggle label="Masks" title="Show the vertebra masks" checked={view.showMasks} onChange={(showMasks) => setView({ showMasks })} testId="spine-show-masks" />
      <ViewRange label="opacity" title="Mask opacity" min={0} max={1} step={0.05} value={view.opacity} onChange={(opacity) => setView({ opacity })} ariaLabel="mask opacity" />
    </div>
  );
}

/** C1..C7 colours, each a checkbox that shows or hides that vertebra. */
function Legend() {
  const visible = useView().visible;
  const toggle = (k: number, on: boolean) => setView({ visible: visible.map((v, i) => (i === k ? on : v)) });
  return (
    <div className="spine-legend" data-testid="spine-legend">
      {VERTEBRAE.map((name, k) => (
        <label key={name} className="legend-item" title={`Show ${name}`}>
          <input type="checkbox" checked={visible[k]} onChange={(e) => toggle(k, e.target.checked)} data-testid={`spine-toggle-${name}`} />
          <span className="swatch" style={{ background: vertebraCss(k) }} />
          {name}
        </label>
      ))}
      <button className="link" onClick={() => setView({ visible: VERTEBRAE.map(() => true) })} data-testid="spine-toggle-all">
        all
      </button>
      <button className="link" onClick={() => setView({ visible: VERTEBRAE.map(() => false) })} data-testid="spine-toggle-none">
        none
      </button>
    </div>
  );
}

/** Correcting the masks with Niivue's pen: pick a vertebra (or the eraser), draw on a 2D slice, apply, save. */
function EditBar({ id }: { id: string }) {
  const pen = useKit(store, (s) => s.ui.pen);
  const editing = useKit(store, (s) => s.ui.editing !== null);
  const edited = useKit(store, (s) => editsOf(s.items.find((t) => t.id === id))?.changed);
  const running = useKit(store, (s) => s.batch.status === 'running');
  return (
    <div className="spine-editbar" data-testid="spine-editbar">
      {!editing ? (
        <button onClick={() => void beginEdit(1)} disabled={running} data-testid="spine-edit" title="Correct the masks with a pen on the 2D slices">
          Edit masks
        </button>
      ) : (
        <>
          <span className="muted small">pen</span>
          <div className="seg" role="group" aria-label="Pen">
            {VERTEBRAE.map((name, k) => (
              <button key={name} className={pen === k + 1 ? 'on' : ''} onClick={() => choosePen(k + 1)} data-testid={`spine-pen-${name}`} title={`Draw ${name} (label ${k + 1})`}>
                <span className="swatch" style={{ background: vertebraCss(k) }} /> {name}
              </button>
            ))}
            <button className={pen === 0 ? 'on' : ''} onClick={() => choosePen(0)} data-testid="spine-pen-erase" title="Erase (label 0)">
              erase
            </button>
          </div>
          <button onClick={undo} title="Undo the last stroke">
            undo
          </button>
          <button onClick={() => applyEdits()} data-testid="spine-edit-apply" title="Keep the drawing as the corrected masks">
            apply
          </button>
          <button className="primary" onClick={() => endEdit(true)} data-testid="spine-edit-done">
            done
          </button>
          <button onClick={() => endEdit(false)} title="Leave without the strokes not applied yet">
            cancel
          </button>
        </>
      )}
      <span className="muted small" data-testid="spine-edited">
        {edited ? `${edited.toLocaleString()} voxels corrected` : editing ? 'drag on a 2D slice to draw' : ''}
      </span>
      {edited !== undefined && !editing && (
        <button className="link" onClick={() => revertEdits(id)} title="Back to the model's masks">
          revert
        </button>
      )}
      <button onClick={() => downloadCorrected(id)} disabled={!editing && edited === undefined} data-testid="spine-download-corrected" title="The corrected labels as .nii.gz in the CT's space">
        Save corrected .nii.gz
      </button>
    </div>
  );
}
