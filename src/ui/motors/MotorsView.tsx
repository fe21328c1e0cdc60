/** The Niivue view of the selected tomogram: heatmap overlay, detected and true motors as points, a legend. */
import { MULTIPLANAR_TYPE, SHOW_RENDER } from '@niivue/niivue';
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { MotorDetection, Point3 } from '../../core/motors/pipeline';
import type { TomogramLabel } from '../../core/motors/postprocess';
import type { Volume } from '../../core/volume';
import { voxelAt } from '../overlay';
import { fmtValue } from '../format';
import { useStore, type SliceView } from '../store';
import { attachCanvas, centreOn, freeTile, getNiivue, onFreeTile, setSliceView, showBase, showOverlay, showPoints, styleOverlay, type OverlayStyle, type ViewPoint } from '../viewer';
import { CloseUp } from './CloseUp';
import type { Tomogram } from '../../core/motors/tomogram';
import { ColourBar } from '../kit/ColourBar';
import { niivueGradient } from '../kit/colourScale';
import { useKit } from '../kit/hooks';
import { EmptyHero, SliceButtons, ViewRange, ViewToggle } from '../kit/ViewControls';
import { ensureItem } from '../kit/intake';
import { displayVolume, heatmapIndexAt, heatmapVolume, mapRange, pointSize, tomogramGrid } from './display';
import { motorsStore as store, openMotorsDemo, type MotorsUi, type MotorsView as View, type TomoMeta } from './page';

/** Node colour values for showPoints: positive -> warm colormap, negative -> winter. */
export const PREDICTED_COLOR = 1;
export const TRUE_COLOR = -1;
/** What the legend draws for them (Niivue's warm at 1 and winter at -1). */
export const PREDICTED_CSS = 'rgb(255, 230, 40)';
export const TRUE_CSS = 'rgb(0, 220, 140)';
const HEATMAP_COLORMAP = 'red';

const SLICES: Partial<Record<SliceView, string>> = { axial: 'Z (axial)', coronal: 'Y', sagittal: 'X', multiplanar: 'Multiplanar' };

const ui = (): MotorsUi => store.getState().ui;
const setUi = (patch: Partial<MotorsUi>): void => store.setState((s) => ({ ui: { ...s.ui, ...patch } }));

/** Selects a tomogram and centres the view on a point of it (now if it is shown, else once it is). */
export function centreView(id: string, voxel: Point3): void {
  const shown = ui().shown;
  if (shown?.id === id) {
    centreOn(shown.grid, voxel);
    setUi({ centre: null, centredByUser: true });
  } else setUi({ centre: { id, voxel } });
  store.setState({ selected: id });
}

const metaOf = (t: { meta?: unknown } | null | undefined): TomoMeta | undefined => t?.meta as TomoMeta | undefined;

/** Niivue draws its own legend for connectome nodes; ours is in HTML. */
function hidePointsLegend(): void {
  const nv = getNiivue();
  let changed = false;
  for (const m of nv.meshes) {
    const mesh = m as unknown as { name?: string; showLegend?: boolean };
    if (mesh.name === 'points' && mesh.showLegend !== false) {
      mesh.showLegend = false;
      changed = true;
    }
  }
  if (changed) nv.drawScene();
}

export function MotorsView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [viewError, setViewError] = useState<string | null>(null);
  const [grid, setGrid] = useState<{ id: string; grid: Volume; tomo: Tomogram } | null>(null);
  // the tomogram being read for the view after its first read (the page let it go, or read it for a run alone): the view says so meanwhile
  const [reading, setReading] = useState<string | null>(null);
  // the voxel clicked: its (z, y, x), the tomogram's value there and the heatmap's (once run)
  const [readout, setReadout] = useState<VoxelReadout | null>(null);
  const gridRef = useRef(grid);
  gridRef.current = grid;
  const detRef = useRef<MotorDetection | null>(null);
  const tile = useSyncExternalStore(onFreeTile, freeTile);
  const sliceType = useKit(store, (s) => s.view.sliceType) as SliceView;
  const setSliceType = (t: SliceView) => store.setState((s) => ({ view: { ...s.view, sliceType: t } }));
  const selected = useKit(store, (s) => s.selected);
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  const loaded = metaOf(entry) !== undefined;
  const result = entry?.status === 'done' ? entry.result : undefined;
  const labels = useKit(store, (s) => s.labels);
  const view = useKit(store, (s) => s.view) as View;
  const nTomos = useKit(store, (s) => s.items.length);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const nv = getNiivue();
    // slices only in the multiplanar layout (a 3D render of a noisy tomogram shows little); restored on leaving
    const opts = nv.opts as typeof nv.opts & { multiplanarForceRender?: boolean };
    const saved = { showRender: opts.multiplanarShowRender, force: opts.multiplanarForceRender, layout: opts.multiplanarLayout };
    opts.multiplanarForceRender = false;
    opts.multiplanarShowRender = SHOW_RENDER.NEVER;
    // always the 2x2 grid: its free lower right quadrant holds the legend (ViewLegend), not black
    opts.multiplanarLayout = MULTIPLANAR_TYPE.GRID;
    attachCanvas(canvas)
      .then((v) => {
        v.onLocationChange = (loc: unknown) => {
          const g = gridRef.current;
          if (!g) return;
          const at = voxelAt(g.grid.affine, (loc as { mm: ArrayLike<number> }).mm, g.tomo.shape);
          if (!at) {
            setReadout(null);
            return;
          }
          const [i, j, k] = at.ijk;
          const zyx: Point3 = [k, j, i];
          const d = detRef.current;
          setReadout({ zyx, value: g.tomo.data[at.index], heatmap: d ? d.heatmap[heatmapIndexAt(d, zyx)] : null });
        };
        v.onIntensityChange = () => undefined;
      })
      .catch((e: unknown) => setViewError(`The 3D view could not start (WebGL2 is needed): ${(e as Error).message ?? e}`));
    return () => {
      opts.multiplanarShowRender = saved.showRender;
      opts.multiplanarLayout = saved.layout;
      if (saved.force !== undefined) opts.multiplanarForceRender = saved.force;
    };
  }, []);

  // the base volume: the selected tomogram once it is loaded
  useEffect(() => {
    let live = true;
    if (!selected || !loaded) {
      setReading(null);
      setUi({ shown: null });
      void showBase(null);
      return;
    }
    void (async () => {
      setReading(selected);
      const tomo = (await ensureItem(store, selected, true)) as Tomogram | null;
      if (!live) return;
      setReading(null);
      if (!tomo) {
        setUi({ shown: null });
        void showBase(null);
        setGrid(null);
        return;
      }
      try {
        await showBase(displayVolume(tomo));
        if (!live) return;
        setSliceView(sliceType);
        const g = { id: tomo.id, grid: tomogramGrid(tomo), tomo };
        setGrid(g);
        const cur = store.getState().items.find((t) => t.id === tomo.id);
        const point = cur?.status === 'done' ? cur.result?.point : undefined;
        const centre = ui().centre;
        if (centre?.id === tomo.id) {
          centreOn(g.grid, centre.voxel);
          setUi({ shown: g, centre: null, centredByUser: true });
        } else {
          setUi({ shown: g, centredByUser: false });
          if (point) centreOn(g.grid, point);
        }
      } catch (e) {
        if (live) useStore.getState().addMessage('error', `Could not display ${selected}: ${(e as Error).message ?? e}`);
      }
    })();
    return () => {
      live = false;
    };
    // sliceType is applied by its own effect
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, loaded]);

  useEffect(() => {
    if (grid) setSliceView(sliceType);
  }, [sliceType, grid]);

  const det = result && grid && grid.id === result.id ? result : null;
  detRef.current = det;
  // another tomogram, or its heatmap came or went: read again at the next click
  useEffect(() => setReadout(null), [grid, det]);
  const range = useMemo(() => (det ? mapRange(det.heatmap) : ([0, 1] as [number, number])), [det]);
  const style: OverlayStyle = useMemo(() => {
    const [lo, hi] = range;
    const calMin = lo + view.heatmapFloor * (hi - lo);
    return { colormap: HEATMAP_COLORMAP, opacity: view.opacity, calMin, calMax: hi > calMin ? hi : calMin + 1e-6, visible: view.showHeatmap };
  }, [range, view.heatmapFloor, view.opacity, view.showHeatmap]);

  const styleRef = useRef(style);
  useEffect(() => {
    if (!grid) return;
    const data = det ? { kind: 'heatmap' as const, data: det.heatmap, ref: heatmapVolume(det, grid.grid), nLabels: 0, labelNames: null } : null;
    showOverlay(data, styleRef.current).catch((e: unknown) => useStore.getState().addMessage('error', `Could not display the heatmap: ${(e as Error).message ?? e}`));
    // a result that arrives for the shown tomogram: go to its point unless the user looked elsewhere
    if (det && !ui().centredByUser) centreOn(grid.grid, det.point);
  }, [det, grid]);
  useEffect(() => {
    styleRef.current = style;
    styleOverlay(style);
  }, [style]);

  // points: the detected motor (and further peaks) and the true motors
  const truths = useMemo(() => (selected ? ((labels?.parsed ?? []) as TomogramLabel[]).find((r) => r.id === selected)?.motors ?? [] : []), [labels, selected]);
  useEffect(() => {
    if (!grid) return;
    const size = pointSize(grid.grid);
    const pts: ViewPoint[] = [];
    if (view.showPoints) {
      if (det) det.peaks.forEach((p, i) => pts.push({ name: i === 0 ? 'detected' : `peak ${i + 1}`, voxel: p.point, color: PREDICTED_COLOR, size: i === 0 ? size : size * 0.7 }));
      truths.forEach((m, i) => pts.push({ name: `true ${i + 1}`, voxel: m, color: TRUE_COLOR, size }));
    }
    void showPoints(grid.grid, pts).then(hidePointsLegend);
  }, [det, truths, grid, view.showPoints]);

  const closeUpPoints = useMemo(
    () => (view.showPoints ? [...truths.map((m) => ({ voxel: m, css: TRUE_CSS })), ...(det ? [{ voxel: det.point, css: PREDICTED_CSS }] : [])] : []),
    [det, truths, view.showPoints],
  );
  const legend = grid && (det || truths.length > 0) ? { det, range: det ? range : null, floor: style.calMin, nTruth: truths.length } : null;
  return (
    <section className="viewer motors-viewer">
      <ViewToolbar sliceType={sliceType} setSliceType={setSliceType} hasResult={!!det} />
      <div className="canvas-wrap" data-gallery-region>
        <canvas ref={canvasRef} data-testid="niivue-canvas" />
        {viewError && <div className="canvas-note error">{viewError}</div>}
        {!viewError && nTomos === 0 && <EmptyMotors />}
        {!viewError && entry && ((!loaded && entry.status !== 'error') || reading === entry.id) && (
          <div className="canvas-note" data-testid="motor-view-loading">
            Loading {entry.id}…
          </div>
        )}
        {!viewError && entry?.loadFailed && <div className="canvas-note error">{entry.id}: {entry.error}</div>}
        {/* multiplanar: the 2x2 grid's free lower right tile holds the detected motor close up and the legend */}
        {legend && sliceType === 'multiplanar' && tile && (
          <div className="motor-tile" data-testid="motor-tile" style={{ left: tile.left, top: tile.top, width: tile.width, height: tile.height }}>
            {det && grid && (
              <CloseUp
                tomo={grid.tomo}
                det={det}
                colormap={HEATMAP_COLORMAP}
                calMin={style.calMin}
                calMax={style.calMax}
                opacity={style.visible ? style.opacity : 0}
                points={closeUpPoints}
                near={pointSize(grid.grid) / grid.grid.spacing[0]}
              />
            )}
            <ViewLegend {...legend} className="motor-tile-legend" />
          </div>
        )}
        {legend && sliceType === 'multiplanar' && !tile && <ViewLegend {...legend} className="view-legend-panel" />}
      </div>
      {/* one slice: the legend in a line under the view, off the image */}
      {legend && sliceType !== 'multiplanar' && <ViewLegend {...legend} className="view-legend-bar" />}
      <ViewInfo readout={readout} />
    </section>
  );
}

function EmptyMotors() {
  return (
    <EmptyHero store={store} className="canvas-note hero" title="Find flagellar motors in cryo-ET tomograms" openDemo={openMotorsDemo} demo="Run the demo: simulated tomograms, a small model, labels" testId="motors-demo-hero">
      Drop folders of <span className="mono">slice_0000.jpg…</span> (one per tomogram), <span className="mono">.mrc</span>/<span className="mono">.rec</span> or TIFF
      stacks, one or more <span className="mono">.onnx</span> models and optionally a <span className="mono">labels.csv</span>. Everything runs in this browser.
    </EmptyHero>
  );
}

function ViewToolbar({ sliceType, setSliceType, hasResult }: { sliceType: SliceView; setSliceType: (s: SliceView) => void; hasResult: boolean }) {
  const view = useKit(store, (s) => s.view) as View;
  const set = (patch: Partial<View>) => store.setState((s) => ({ view: { ...s.view, ...patch } }));
  return (
    <div className="toolbar">
      <SliceButtons slices={SLICES} value={sliceType} onPick={setSliceType} testId="motor-slice" />
      <ViewToggle label="Heatmap" title="Show the summed heatmap over the tomogram" checked={view.showHeatmap} onChange={(showHeatmap) => set({ showHeatmap })} testId="motor-show-heatmap" />
      <ViewRange
        label="from"
        title="Heatmap values below this fraction of its range are transparent"
        min={0}
        max={0.99}
        step={0.01}
        value={view.heatmapFloor}
        disabled={!hasResult}
        onChange={(heatmapFloor) => set({ heatmapFloor })}
        testId="motor-heatmap-floor"
        ariaLabel="heatmap floor"
        shown={{ digits: 2, testId: 'motor-heatmap-floor-value' }}
      />
      <ViewRange label="opacity" title="Heatmap opacity" min={0} max={1} step={0.01} value={view.opacity} onChange={(opacity) => set({ opacity })} ariaLabel="heatmap opacity" shown={{ digits: 2 }} />
      <ViewToggle label="Points" title="Show detected and true motors as points" checked={view.showPoints} onChange={(showPoints) => set({ showPoints })} testId="motor-show-points" />
    </div>
  );
}

/**
 * What the view shows, in the multiplanar grid's free lower right quadrant or in a line under a single slice:
 * the detected motor with its score and point, the true motors, and the heatmap's colour bar (the
 * summed sigmoid over the models, from the floor up; below it is transparent). Its content does
 * not change with the Heatmap / Points switches.
 */
function ViewLegend({ det, range, floor, nTruth, className }: { det: { score: number; point: Point3 } | null; range: [number, number] | null; floor: number; nTruth: number; className: string }) {
  const nModels = useKit(store, (s) => s.models.length) || 1;
  return (
    <div className={className} data-testid="motor-legend" title="Points show on slices within a few voxels of them">
      {det && (
        <div className="legend-item">
          <span className="dot" style={{ background: PREDICTED_CSS }} />
          <span>
            detected motor (argmax): score <span className="mono">{det.score.toFixed(4)}</span> at z,y,x{' '}
            <span className="mono" data-testid="motor-legend-point">
              {det.point.map((v) => v.toFixed(1)).join(', ')}
            </span>
          </span>
        </div>
      )}
      {nTruth > 0 && (
        <div className="legend-item">
          <span className="dot" style={{ background: TRUE_CSS }} /> true motor{nTruth > 1 ? `s (${nTruth})` : ''} (labels)
        </div>
      )}
      {range && (
        <ColourBar
          gradient={niivueGradient(HEATMAP_COLORMAP)}
          min={floor}
          max={range[1]}
          label="heatmap"
          units={nModels > 1 ? `sigmoid summed over ${nModels} models (0…${nModels})` : 'sigmoid: probability (0…1)'}
          note="values below the left end (the floor) are transparent"
          testId="motor-colourbar"
        />
      )}
    </div>
  );
}

interface VoxelReadout {
  zyx: Point3;
  value: number;
  heatmap: number | null;
}

function ViewInfo({ readout }: { readout: VoxelReadout | null }) {
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected) ?? null);
  if (!entry) return <div className="readout muted">No tomogram selected.</div>;
  const r = entry.status === 'done' ? entry.result : undefined;
  const meta = metaOf(entry);
  return (
    <div className="readout rows" data-testid="motor-view-info">
      <div className="readout-row">
        <span className="shrink" title={entry.id}>
          <span className="muted">tomogram</span> {entry.id}
        </span>
        {meta && (
          <span>
            <span className="muted">Z×Y×X</span> {meta.shape.join('×')}
          </span>
        )}
        {meta?.spacing !== undefined && (
          <span>
            <span className="muted">spacing</span> {fmtValue(meta.spacing)} Å
          </span>
        )}
        {r && (
          <span>
            <span className="muted">heatmap</span> {r.heatmapShape.join('×')}
          </span>
        )}
      </div>
      {readout && (
        <div className="readout-row">
          <span data-testid="motor-readout-voxel">
            <span className="muted">z,y,x</span> {readout.zyx.join(', ')} <span className="muted">value</span> {readout.value}
            {readout.heatmap !== null && (
              <>
                {' '}
                <span className="muted">heatmap</span> {readout.heatmap.toFixed(4)}
              </>
            )}
          </span>
        </div>
      )}
    </div>
  );
}
