/** The field of view on a canvas: RGBY composite with per-channel switches and contrast, the CAM of a chosen class, cell outlines; a click picks a cell. */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { PROTEIN_CHANNELS, type ProteinChannel } from '../../core/presets/protein';
import { camAtImage } from '../../core/protein/cells';
import type { ProteinItem } from '../../core/protein/sources';
import { useKit, useSelectedItem } from '../kit/hooks';
import { EmptyHero, NotShown } from '../kit/ViewControls';
import { canvasPoint } from '../view2d/canvas';
import { CamControls } from '../view2d/CamControls';
import { INFERNO, topClass } from '../view2d/colour';
import { proteinShare, proteinStore as store, type FovMeta } from './page';
import { channelMax, classColour, renderFov, type ChannelView, type ProteinView as View } from './render';

type Under = 'full' | 'dim' | 'off';
const UNDER: { id: Under; label: string }[] = [
  { id: 'full', label: 'channels' },
  { id: 'dim', label: 'dimmed' },
  { id: 'off', label: 'CAM only' },
];
/** The composite's brightness under the CAM for each choice. */
const COMPOSITE: Record<Under, number> = { full: 1, dim: 0.3, off: 0 };

const SWATCH: Record<ProteinChannel, string> = { red: '#ff4040', green: '#40ff40', blue: '#4080ff', yellow: '#ffff40' };

export const setView = (patch: Partial<View>) => store.setState((s) => ({ view: { ...s.view, ...patch } }));
export const pickCell = (selectedCell: number | null) => store.setState({ ui: { selectedCell } });
const setChannel = (c: ProteinChannel, patch: Partial<ChannelView>) =>
  store.setState((s) => ({ view: { ...s.view, channels: { ...s.view.channels, [c]: { ...s.view.channels[c], ...patch } } } }));

/** The selected field of view's result (when done) and the CAM class shown: the chosen one or its top class. */
export function useShownResult() {
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected));
  const chosen = useKit(store, (s) => s.view.camClass);
  const result = entry?.status === 'done' ? entry.result : undefined;
  return { entry, result, camClass: chosen ?? topClass(result?.probabilities) };
}

function ChannelBar() {
  const channels = useKit(store, (s) => s.view.channels);
  return (
    <div className="protein-toolbar">
      {PROTEIN_CHANNELS.map((c) => (
        <label key={c} className="protein-channel" title={`${c}: show and contrast (display maximum as a fraction of the channel maximum)`}>
          <input type="checkbox" checked={channels[c].on} onChange={(e) => setChannel(c, { on: e.target.checked })} data-testid={`channel-${c}`} />
          <span className="protein-swatch" style={{ background: SWATCH[c] }} />
          <span>{c}</span>
          <input type="range" min={0.05} max={1} step={0.01} value={channels[c].max} onChange={(e) => setChannel(c, { max: Number(e.target.value) })} aria-label={`${c} contrast`} data-testid={`contrast-${c}`} />
        </label>
      ))}
    </div>
  );
}

/** What to drop, and the demo. */
function EmptyProtein() {
  return (
    <EmptyHero store={store} className="kit-hero" title="Localise proteins in cells, per cell, with class activation maps" openDemo={() => proteinShare.openDemo()} demo="Run the demo: two fields of view, cell masks, a small CAM model" testId="protein-demo-hero">
      Drop the four <span className="mono">&lt;id&gt;_red/green/blue/yellow.png</span> files of one or more fields of view (8- or 16-bit PNG, or one 4-channel TIFF),
      cell masks <span className="mono">&lt;id&gt;_cells.png</span> and an <span className="mono">.onnx</span> model anywhere on the page. Everything runs in this
      browser.
    </EmptyHero>
  );
}

export function ProteinView() {
  const shown = useSelectedItem<ProteinItem>(store);
  const { entry, result, camClass } = useShownResult();
  const view = useKit(store, (s) => s.view);
  const selectedCell = useKit(store, (s) => s.ui.selectedCell);
  const classes = useKit(store, (s) => s.params.classes);
  const canvas = useRef<HTMLCanvasElement>(null);
  /** The channels under a shown CAM: as set, dimmed, or off (the CAM alone), so that it stays visible over bright red and yellow. */
  const [under, setUnder] = useState<Under>('full');
  const fov = shown?.item.fov;
  const maxima = useMemo(() => (fov ? fov.channels.map(channelMax) : [1, 1, 1, 1]), [fov]);
  const cam = useMemo(() => {
    if (!result || !view.showCam) return null;
    const [, h, w] = result.camShape;
    return camAtImage(result.cam, Math.min(camClass, result.camShape[0] - 1), [h, w], result.height, result.width);
  }, [result, view.showCam, camClass]);
  const labels = result?.cells ?? shown?.item.cells ?? null;

  useEffect(() => {
    const c = canvas.current;
    if (!c || !fov) return;
    c.width = fov.width;
    c.height = fov.height;
    const rgba = renderFov(fov.width, fov.height, fov.channels, {
      channels: view.channels,
      channelMax: maxima,
      cam: cam ? { data: cam, opacity: view.camOpacity } : null,
      outlines: view.showOutlines && labels ? { labels, cells: result?.cellResults ?? [], selected: selectedCell } : null,
      composite: cam ? COMPOSITE[under] : 1,
    });
    c.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, fov.width, fov.height), 0, 0);
    c.dataset.rendered = `${fov.id}:${cam ? camClass : 'none'}:${view.showOutlines && labels ? 'outlines' : 'plain'}`;
  }, [fov, view, maxima, cam, labels, result, camClass, selectedCell, under]);

  const pick = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!fov || !labels) return;
    const [x, y] = canvasPoint(e, fov.width, fov.height).map(Math.floor);
    pickCell(labels[y * fov.width + x] || null);
  };
  const meta = entry?.meta as FovMeta | undefined;

  return (
    <div className="protein-view" data-testid="protein-view">
      <ChannelBar />
      <CamControls
        show={view.showCam}
        onShow={(showCam) => setView({ showCam })}
        label={result?.camSource === 'occlusion' ? 'occlusion' : 'CAM'}
        options={classes.map((c, k) => `${k} ${c}${result ? ` (${result.probabilities[k].toFixed(3)})` : ''}`)}
        cls={camClass}
        onClass={(k) => setView({ camClass: k })}
        opacity={view.camOpacity}
        onOpacity={(camOpacity) => setView({ camOpacity })}
        ids={{ show: 'show-cam', cls: 'cam-class', opacity: 'cam-opacity' }}
        ramp={INFERNO}
      >
        <span className="seg protein-under" role="group" aria-label="Channels under the CAM" title="The RGBY channels under the CAM: as set, dimmed, or off (the CAM alone)">
          {UNDER.map((u) => (
            <button key={u.id} className={under === u.id ? 'on' : ''} onClick={() => setUnder(u.id)} disabled={!view.showCam} data-testid={`cam-under-${u.id}`}>
              {u.label}
            </button>
          ))}
        </span>
        <label className="protein-channel">
          <input type="checkbox" checked={view.showOutlines} onChange={(e) => setView({ showOutlines: e.target.checked })} data-testid="show-outlines" />
          <span>cell outlines</span>
        </label>
      </CamControls>
      <div className="protein-canvas-wrap" data-gallery-region>
        {fov ? (
          <canvas ref={canvas} className="protein-canvas" onClick={pick} data-testid="protein-canvas" />
        ) : (
          <div className="protein-empty muted">
            <NotShown entry={entry} errorClassName="warn" empty={<EmptyProtein />} />
          </div>
        )}
      </div>
      {result && (
        <div className="small muted protein-caption" data-testid="protein-caption">
          {result.id}: {result.width} x {result.height}, {result.cellResults.length} cells ({result.cellsSource === 'given' ? `mask ${meta?.cellsName ?? ''}` : 'simple built-in segmentation'}), CAM from{' '}
          {result.camSource === 'class_maps' ? `class maps ${result.camShape[1]} x ${result.camShape[2]}` : 'an occlusion map'}: showing <span style={{ color: classColour(camClass) }}>■</span> {classes[camClass]}
          {view.camClass === null ? ' (the top class)' : ''} · outline colour = each cell's top class
        </div>
      )}
    </div>
  );
}
