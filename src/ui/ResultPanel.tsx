import { readNpy } from '../core/io/npy';
import { parityOf, rangeOf } from './derived';
import { fmtValue } from './format';
import { HeatmapScale, Legend } from './Legend';
import { NumberInput } from './NumberInput';
import { KV, Panel } from './Panel';
import { saveLabels, saveNifti, saveNpy } from './save';
import { useStore, type OverlayKind } from './store';

const COLORMAPS = ['warm', 'hot', 'viridis', 'plasma', 'inferno', 'red', 'green', 'blue', 'winter', 'cool', 'gray'];

/** The result: shape, overlay controls, legend and the save buttons. */
export function ResultPanel() {
  const result = useStore((s) => s.result);
  const addMessage = useStore((s) => s.addMessage);
  const threshold = useStore((s) => s.view.threshold);
  if (!result) {
    return (
      <Panel title="Result" testId="result-panel">
        <p className="muted">No result yet.</p>
      </Panel>
    );
  }
  const s = result.run.shape;
  const zoom = result.run.stats.zoom;
  const guard = (what: string, fn: () => void) => () => {
    try {
      fn();
    } catch (e) {
      addMessage('error', `Could not save ${what}: ${(e as Error).message}`);
    }
  };
  return (
    <Panel title="Result" testId="result-panel">
      <KV
        rows={[
          ['Output', <span key="o" className="mono" data-testid="result-shape">[{s.join(', ')}]</span>],
          ...(zoom.some((z) => z !== 1) ? ([['Zoom', `${zoom.map(fmtValue).join(' × ')} (shown resampled)`]] as [string, string][]) : []),
          ['From', `${result.modelName} on ${result.inputName}`],
        ]}
      />
      <OverlayControls />
      <ParityCheck />
      <div className="save-row">
        <button onClick={guard('the NIfTI', () => saveNifti(result))} data-testid="save-nifti" title="Output on the input grid and affine (.nii.gz); several channels -> 4D">
          Save NIfTI
        </button>
        <button onClick={guard('the labels', () => saveLabels(result, threshold))} data-testid="save-labels" title="Argmax label map, uint8 (.nii.gz)">
          Save labels NIfTI
        </button>
        <button onClick={guard('the .npy', () => saveNpy(result))} data-testid="save-npy" title="Raw output [C, D, H, W] float32">
          Save .npy
        </button>
      </div>
    </Panel>
  );
}

function OverlayControls() {
  const result = useStore((s) => s.result)!;
  const view = useStore((s) => s.view);
  const setView = useStore((s) => s.setView);
  const [lo, hi] = rangeOf(result, view.channel);
  const channels = result.channels;
  const labelNames = useStore((s) => s.labelNames);
  const step = hi > lo ? (hi - lo) / 200 : 0.01;
  const showThreshold = view.overlay === 'heatmap' || channels === 1;
  return (
    <div className="form overlay-controls" data-testid="overlay-controls">
      <div className="field">
        <span>Overlay</span>
        <span className="seg">
          {(['labels', 'heatmap'] as OverlayKind[]).map((k) => (
            <button
              key={k}
              className={view.overlay === k ? 'on' : ''}
              title={k === 'labels' ? 'Argmax over channels as a label map' : 'One channel with a colormap'}
              onClick={() => setView({ overlay: k })} data-testid={`overlay-${k}`}>
              {k === 'labels' ? 'Labels' : 'Heatmap'}
            </button>
          ))}
        </span>
      </div>
      <label className="field">
        <span>Show</span>
        <input type="checkbox" checked={view.showOverlay} onChange={(e) => setView({ showOverlay: e.target.checked })} data-testid="overlay-visible" />
      </label>
      {view.overlay === 'heatmap' && (
        <>
          <label className="field">
            <span>Channel</span>
            <select value={view.channel} onChange={(e) => setView({ channel: Number(e.target.value) })} data-testid="overlay-channel">
              {Array.from({ length: channels }, (_, c) => (
                <option key={c} value={c}>
                  {c}
                  {labelNames?.[c] ? ` · ${labelNames[c]}` : ''}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Colormap</span>
            <select value={view.colormap} onChange={(e) => setView({ colormap: e.target.value })} data-testid="overlay-colormap">
              {COLORMAPS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
      <label className="field">
        <span>Opacity</span>
        <span className="slider">
          <input
            type="range"
            min={0}
            max={1}
            step={0.01}
            value={view.opacity}
            onChange={(e) => setView({ opacity: Number(e.target.value) })}
            data-testid="overlay-opacity"
          />
          <span className="slider-val">{view.opacity.toFixed(2)}</span>
        </span>
      </label>
      {showThreshold && (
        <div className="field">
          <span title={view.overlay === 'heatmap' ? 'Values below are transparent' : 'Foreground where the value is above'}>Threshold</span>
          <span className="slider">
            <input
              type="range"
              min={lo}
              max={hi > lo ? hi : lo + 1}
              step={step}
              value={Math.min(Math.max(view.threshold, lo), hi > lo ? hi : lo + 1)}
              onChange={(e) => setView({ threshold: Number(e.target.value) })}
              data-testid="overlay-threshold"
              aria-label="threshold"
            />
            <NumberInput value={view.threshold} onChange={(v) => setView({ threshold: v })} ariaLabel="threshold value" className="slider-num" />
          </span>
        </div>
      )}
      {showThreshold && (
        <div className="muted small">
          channel {view.overlay === 'heatmap' ? view.channel : 0} range {fmtValue(lo)} … {fmtValue(hi)}
        </div>
      )}
      {view.overlay === 'labels' && <Legend />}
      <HeatmapScale />
    </div>
  );
}

/** Reads a reference output (.npy, e.g. from PyTorch) for the parity check. */
async function openReference(file: File): Promise<void> {
  const { addMessage } = useStore.getState();
  try {
    const npy = readNpy(new Uint8Array(await file.arrayBuffer()), file.name);
    const data = npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data as ArrayLike<number>);
    useStore.setState({ parity: { name: file.name, data, shape: npy.shape, showDiff: false } });
  } catch (e) {
    addMessage('error', `Could not open ${file.name}: ${(e as Error).message}`, { key: 'parity' });
  }
}

/** Parity check: max/mean |output - reference| and the difference map overlay. */
function ParityCheck() {
  const result = useStore((s) => s.result)!;
  const parity = useStore((s) => s.parity);
  const stats = parity ? parityOf(result, parity) : null;
  return (
    <div className="parity small" data-testid="parity">
      <label className="file-btn ghost small-btn" title="A reference output (.npy [C, D, H, W] or [1, C, D, H, W], e.g. from PyTorch) to compare the workbench output with">
        Compare with reference (.npy)…
        <input
          type="file"
          accept=".npy"
          hidden
          data-testid="reference-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void openReference(f);
          }}
        />
      </label>
      {parity && stats && (
        <div data-testid="parity-stats" data-max-abs={stats.maxAbsDiff} data-mean-abs={stats.meanAbsDiff}>
          <span className="muted">{parity.name}: </span>
          {stats.error ? (
            <span className="warn">cannot compare: {stats.error}</span>
          ) : (
            <>
              max |Δ| <span className="mono">{stats.maxAbsDiff.toExponential(2)}</span>, mean |Δ| <span className="mono">{stats.meanAbsDiff.toExponential(2)}</span>
              <span className="muted"> (max |ref| {fmtValue(stats.refMaxAbs)})</span>
              <label className="field">
                <span>Difference map</span>
                <input
                  type="checkbox"
                  checked={parity.showDiff}
                  onChange={(e) => useStore.setState({ parity: { ...parity, showDiff: e.target.checked } })}
                  data-testid="parity-diff-map"
                />
              </label>
            </>
          )}
          <button className="ghost small-btn" onClick={() => useStore.setState({ parity: null })} data-testid="parity-clear">
            Clear
          </button>
        </div>
      )}
    </div>
  );
}
