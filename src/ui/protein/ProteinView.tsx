/** The field of view on a canvas: RGBY composite with per-channel toggles and contrast, CAM overlay of a chosen class, cell outlines. */
import { useEffect, useMemo, useRef } from 'react';
import { PROTEIN_CHANNELS } from '../../core/presets/protein';
import { camAtImage } from '../../core/protein/cells';
import { camColour, channelMax, classColour, renderFov } from './render';
import { effectiveCamClass, patchView, setChannel, useProtein } from './state';

const SWATCH: Record<string, string> = { red: '#ff4040', green: '#40ff40', blue: '#4080ff', yellow: '#ffff40' };

function ColourBar() {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = camColour(i / 10);
    return `rgb(${r.toFixed(0)},${g.toFixed(0)},${b.toFixed(0)}) ${i * 10}%`;
  });
  return (
    <div className="protein-colourbar" data-testid="protein-colourbar" title="CAM (relu / per-class max), 0 .. 1">
      <span className="small muted">0</span>
      <div className="protein-colourbar-bar" style={{ background: `linear-gradient(to right, ${stops.join(', ')})` }} />
      <span className="small muted">1</span>
    </div>
  );
}

export function ProteinView() {
  const selected = useProtein((s) => s.selected);
  const entry = useProtein((s) => s.fovs.find((f) => f.id === s.selected));
  const view = useProtein((s) => s.view);
  const classes = useProtein((s) => s.params.classes);
  const canvas = useRef<HTMLCanvasElement>(null);
  const fov = entry?.fov;
  const result = entry?.status === 'done' ? entry.result : undefined;
  const camClass = effectiveCamClass(view.camClass, result?.probabilities);
  const maxima = useMemo(() => (fov ? fov.channels.map(channelMax) : [1, 1, 1, 1]), [fov]);
  const cam = useMemo(() => {
    if (!result || !view.showCam) return null;
    const [, h, w] = result.camShape;
    return camAtImage(result.cam, Math.min(camClass, result.camShape[0] - 1), [h, w], result.height, result.width);
  }, [result, view.showCam, camClass]);
  const labels = result?.cells ?? entry?.cells ?? null;

  useEffect(() => {
    const c = canvas.current;
    if (!c || !fov) return;
    c.width = fov.width;
    c.height = fov.height;
    const rgba = renderFov(fov.width, fov.height, fov.channels, {
      channels: view.channels,
      channelMax: maxima,
      cam: cam ? { data: cam, opacity: view.camOpacity } : null,
      outlines: view.showOutlines && labels ? { labels, cells: result?.cellResults ?? [], selected: view.selectedCell } : null,
    });
    c.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, fov.width, fov.height), 0, 0);
    c.dataset.rendered = `${fov.id}:${cam ? camClass : 'none'}:${view.showOutlines && labels ? 'outlines' : 'plain'}`;
  }, [fov, view, maxima, cam, labels, result, camClass]);

  const pick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const c = canvas.current;
    if (!c || !fov || !labels) return;
    const r = c.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * fov.width);
    const y = Math.floor(((e.clientY - r.top) / r.height) * fov.height);
    const l = labels[y * fov.width + x];
    patchView({ selectedCell: l || null });
  };

  return (
    <div className="protein-view" data-testid="protein-view">
      <div className="protein-toolbar">
        {PROTEIN_CHANNELS.map((c) => (
          <label key={c} className="protein-channel" title={`${c}: show and contrast (display maximum as a fraction of the channel maximum)`}>
            <input type="checkbox" checked={view.channels[c].on} onChange={(e) => setChannel(c, { on: e.target.checked })} data-testid={`channel-${c}`} />
            <span className="protein-swatch" style={{ background: SWATCH[c] }} />
            <span>{c}</span>
            <input
              type="range"
              min={0.05}
              max={1}
              step={0.01}
              value={view.channels[c].max}
              onChange={(e) => setChannel(c, { max: Number(e.target.value) })}
              aria-label={`${c} contrast`}
              data-testid={`contrast-${c}`}
            />
          </label>
        ))}
      </div>
      <div className="protein-toolbar">
        <label className="protein-channel">
          <input type="checkbox" checked={view.showCam} onChange={(e) => patchView({ showCam: e.target.checked })} data-testid="show-cam" />
          <span>CAM</span>
        </label>
        <select value={camClass} onChange={(e) => patchView({ camClass: Number(e.target.value) })} data-testid="cam-class" aria-label="CAM class">
          {classes.map((c, k) => (
            <option key={k} value={k}>
              {k} {c}
              {result ? ` (${result.probabilities[k].toFixed(3)})` : ''}
            </option>
          ))}
        </select>
        <label className="protein-channel" title="CAM opacity">
          <span>opacity</span>
          <input type="range" min={0} max={1} step={0.05} value={view.camOpacity} onChange={(e) => patchView({ camOpacity: Number(e.target.value) })} data-testid="cam-opacity" aria-label="CAM opacity" />
        </label>
        <ColourBar />
        <label className="protein-channel">
          <input type="checkbox" checked={view.showOutlines} onChange={(e) => patchView({ showOutlines: e.target.checked })} data-testid="show-outlines" />
          <span>cell outlines</span>
        </label>
      </div>
      <div className="protein-canvas-wrap" data-gallery-region>
        {fov ? (
          <canvas ref={canvas} className="protein-canvas" onClick={pick} data-testid="protein-canvas" />
        ) : (
          <div className="protein-empty muted">
            {selected && entry?.error ? (
              <span className="warn">{entry.error}</span>
            ) : (
              <>
                Drop the four <span className="mono">&lt;id&gt;_red/green/blue/yellow.png</span> files of one or more fields of view (8- or 16-bit PNG, or one
                4-channel TIFF), cell masks <span className="mono">&lt;id&gt;_cells.png</span> and an .onnx model anywhere on the page, or open the demo.
              </>
            )}
          </div>
        )}
      </div>
      {result && (
        <div className="small muted protein-caption" data-testid="protein-caption">
          {result.id}: {result.width} x {result.height}, {result.cellResults.length} cells ({result.cellsSource === 'given' ? `mask ${entry?.cellsName ?? ''}` : 'simple built-in segmentation'}), CAM from{' '}
          {result.camSource === 'class_maps' ? `class maps ${result.camShape[1]} x ${result.camShape[2]}` : 'an occlusion map'}: showing{' '}
          <span style={{ color: classColour(camClass) }}>■</span> {classes[camClass]}
          {view.camClass === null ? ' (the top class)' : ''} · outline colour = each cell's top class
        </div>
      )}
    </div>
  );
}
