import { useMemo } from 'react';
import { estimateMemory, suggestRoi, type RoiSuggestion } from '../core/onnx/memory';
import { planWindows } from '../core/slidingWindow';
import { spatialShape } from '../core/volume';
import { checkRelax, setRoi } from './actions';
import { BackendField } from './common';
import { NumberInput } from './NumberInput';
import { defaultRoi, inputSpec, type IntensityScaling, type Shape3 } from './overlay';
import { Panel } from './Panel';
import { fmtBytes } from './format';
import { GpuPlanLine } from './GpuPlanLine';
import { useStore } from './store';

const AXES = ['D', 'H', 'W'] as const;

/** Sliding-window parameters, intensity scaling and backend. */
export function WindowSettings() {
  const settings = useStore((s) => s.settings);
  const setSettings = useStore((s) => s.setSettings);
  const volume = useStore((s) => s.volume);
  const model = useStore((s) => s.model);
  const running = useStore((s) => s.runState.status === 'running');
  const spec = model ? inputSpec(model.loaded.info) : null;
  const is2D = spec?.spatialDims === 2;
  const { roi, overlap, overlapLinked } = settings;

  const plan = useMemo(() => {
    if (!volume) return null;
    try {
      const sp = spatialShape(volume.volume);
      const p = is2D ? planWindows(sp.slice(1), { roi: roi.slice(1), overlap: overlap.slice(1) }) : planWindows(sp, { roi, overlap });
      return { windows: p.starts.length, padded: p.paddedSize.some((s, i) => s !== p.imageSize[i]) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }, [volume, roi, overlap, is2D]);

  const runtime = useStore((s) => s.runtime);
  const memory = useMemo(() => {
    if (!model) return null;
    const info = model.loaded.info;
    const r = is2D ? roi.slice(1) : roi.slice();
    const batch = Math.max(1, Math.trunc(settings.swBatch));
    try {
      const est = estimateMemory(info, r, batch);
      const gpu = runtime?.webgpu;
      let suggestion: RoiSuggestion | null = null;
      if (gpu?.available && gpu.maxStorageBufferBindingSize && gpu.maxBufferSize) {
        suggestion = suggestRoi(info, r, batch, { maxStorageBufferBindingSize: gpu.maxStorageBufferBindingSize, maxBufferSize: gpu.maxBufferSize });
      }
      return { est, suggestion };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }, [model, roi, is2D, settings.swBatch, runtime]);
  const applySuggestion = (r: number[]) => setRoi((is2D ? [roi[0], r[0], r[1]] : [r[0], r[1], r[2]]) as Shape3);

  const setRoiAxis = (i: number, v: number) => {
    const next = [...roi] as Shape3;
    next[i] = v;
    setRoi(next);
  };
  const setOverlap = (i: number, v: number) => {
    if (overlapLinked) setSettings({ overlap: [v, v, v] });
    else {
      const next = [...overlap] as Shape3;
      next[i] = v;
      setSettings({ overlap: next });
    }
  };
  const resetRoi = () => {
    setSettings({ roi: defaultRoi(spec, volume?.volume ?? null), roiTouched: false });
    checkRelax();
  };
  const fixed = spec?.fixed ?? [null, null, null];

  return (
    <Panel title="Sliding window" testId="window-settings">
      <fieldset disabled={running} className="form">
        <div className="field stack">
          <span>Window (roi) <span className="muted small">D × H × W voxels</span></span>
          <span className="triple">
            {AXES.map((a, i) => (
              <span key={a} className={`axis ${is2D && i === 0 ? 'off' : ''}`}>
                <span className="axis-label">{a}</span>
                <NumberInput
                  value={roi[i]}
                  integer
                  min={1}
                  onChange={(v) => setRoiAxis(i, v)}
                  disabled={is2D && i === 0}
                  testId={`roi-${a.toLowerCase()}`}
                  ariaLabel={`roi ${a}`}
                  className={fixed[i] !== null && fixed[i] !== roi[i] && !model?.loaded.relaxed ? 'bad' : ''}
                />
              </span>
            ))}
            <button type="button" className="ghost icon" title="Back to the model's / volume's default" onClick={resetRoi}>
              ↺
            </button>
          </span>
        </div>
        <div className="field">
          <span>
            Overlap{' '}
            <button
              type="button"
              className="link"
              onClick={() => setSettings({ overlapLinked: !overlapLinked, overlap: overlapLinked ? overlap : [overlap[0], overlap[0], overlap[0]] })}
              title="One value for all axes, or one per axis"
            >
              {overlapLinked ? 'per axis' : 'one value'}
            </button>
          </span>
          {overlapLinked ? (
            <NumberInput value={overlap[0]} min={0} max={0.99} onChange={(v) => setOverlap(0, v)} testId="overlap" ariaLabel="overlap" />
          ) : (
            <span className="triple">
              {AXES.map((a, i) => (
                <span key={a} className="axis">
                  <span className="axis-label">{a}</span>
                  <NumberInput value={overlap[i]} min={0} max={0.99} onChange={(v) => setOverlap(i, v)} ariaLabel={`overlap ${a}`} />
                </span>
              ))}
            </span>
          )}
        </div>
        <label className="field">
          <span>Blending</span>
          <select value={settings.mode} onChange={(e) => setSettings({ mode: e.target.value as 'constant' | 'gaussian' })} data-testid="mode">
            <option value="gaussian">gaussian</option>
            <option value="constant">constant</option>
          </select>
        </label>
        {settings.mode === 'gaussian' && (
          <label className="field">
            <span>Sigma scale</span>
            <NumberInput value={settings.sigmaScale} min={0.001} onChange={(v) => setSettings({ sigmaScale: v })} ariaLabel="sigma scale" />
          </label>
        )}
        <label className="field">
          <span>Windows per batch</span>
          <NumberInput value={settings.swBatch} integer min={1} max={64} onChange={(v) => setSettings({ swBatch: v })} testId="sw-batch" ariaLabel="sw batch" />
        </label>
        <label className="field">
          <span>Padding value</span>
          <NumberInput value={settings.cval} onChange={(v) => setSettings({ cval: v })} ariaLabel="cval" />
        </label>
        <label className="field">
          <span>Intensity</span>
          <select value={settings.intensity} onChange={(e) => setSettings({ intensity: e.target.value as IntensityScaling })} data-testid="intensity">
            <option value="none">as is</option>
            <option value="div255">÷ 255</option>
            <option value="minmax">min–max → [0, 1]</option>
          </select>
        </label>
        <BackendField value={settings.backend} onChange={(backend) => setSettings({ backend })} disabled={running} testId="backend" detailed />
      </fieldset>
      {plan && (
        <div className={`plan small ${'error' in plan ? 'warn' : 'muted'}`} data-testid="plan">
          {'error' in plan ? plan.error : `${plan.windows} window${plan.windows === 1 ? '' : 's'}${plan.padded ? ' · volume padded to the window' : ''}`}
        </div>
      )}
      {memory && (
        <div className="small memory" data-testid="memory-estimate">
          {'error' in memory ? (
            <span className="muted">Memory estimate unavailable: {memory.error}</span>
          ) : (
            <>
              <span className="muted" title={`Peak activations ${fmtBytes(memory.est.peakActivationBytes)}; the runtime's real footprint is typically within a factor of 2`}>
                Memory: weights {fmtBytes(memory.est.weightBytes)} + largest activation {fmtBytes(memory.est.largestActivation.bytes)}
                {memory.est.largestActivation.op ? ` (${memory.est.largestActivation.op})` : ''} · peak ≈ {fmtBytes(memory.est.totalBytes)}
              </span>
              {memory.suggestion && !memory.suggestion.fits && (
                <div className="warn" data-testid="memory-warning">
                  Too large for this WebGPU adapter: {memory.suggestion.reason}.
                  {memory.suggestion.roi && (
                    <button type="button" className="ghost small-btn" disabled={running} onClick={() => applySuggestion(memory.suggestion!.roi!)} data-testid="apply-roi">
                      Use roi {memory.suggestion.roi.join('×')}
                    </button>
                  )}
                </div>
              )}
            </>
          )}
        </div>
      )}
      <GpuPlanLine />
    </Panel>
  );
}
