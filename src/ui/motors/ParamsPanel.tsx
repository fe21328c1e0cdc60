/** Every value of the motors preset (MotorsParams), editable; defaults from the model card or motorsPreset. */
import { useMemo } from 'react';
import { planWindows } from '../../core/slidingWindow';
import { MOTORS_TTA, validateMotorsParams, type MotorsParams, type MotorsTta } from '../../core/presets/motors';
import { NumField, type NumFieldProps } from '../common';
import { NumberInput } from '../NumberInput';
import { Panel } from '../Panel';
import { setParams, useMotors } from './state';

type Triple = [number, number, number];
const AXES = ['Z', 'Y', 'X'] as const;

const TTA_TEXT: Record<MotorsTta, string> = {
  identity: 'identity',
  flipD: 'flip Z',
  flipH: 'flip Y',
  flipW: 'flip X',
};

function TripleInput({ label, hint, value, integer, min, max, testId, onChange }: {
  label: string;
  hint?: string;
  value: Triple;
  integer?: boolean;
  min?: number;
  max?: number;
  testId: string;
  onChange: (v: Triple) => void;
}) {
  return (
    <div className="field stack">
      <span>
        {label} {hint && <span className="muted small">{hint}</span>}
      </span>
      <span className="triple">
        {AXES.map((a, i) => (
          <span key={a} className="axis">
            <span className="axis-label">{a}</span>
            <NumberInput
              value={value[i]}
              integer={integer}
              min={min}
              max={max}
              onChange={(v) => {
                const next = [...value] as Triple;
                next[i] = v;
                onChange(next);
              }}
              testId={`${testId}-${a.toLowerCase()}`}
              ariaLabel={`${label} ${a}`}
            />
          </span>
        ))}
      </span>
    </div>
  );
}

/** Every number of the motors values keeps a unit column (empty where there is no unit). */
function Num(props: NumFieldProps) {
  return <NumField {...props} unit={props.unit ?? ''} />;
}

export function ParamsPanel() {
  const p = useMotors((s) => s.params);
  const from = useMotors((s) => s.paramsFrom);
  const defaults = useMotors((s) => s.defaults);
  const running = useMotors((s) => s.batch.status === 'running');
  const set = (patch: Partial<MotorsParams>) => setParams(patch);
  const problems = useMemo(() => validateMotorsParams(p), [p]);
  const plan = useMemo(() => {
    try {
      const n = planWindows(p.inputSize, { roi: p.roi, overlap: p.overlap }).starts.length;
      return { n, passes: n * p.tta.length };
    } catch {
      return null;
    }
  }, [p.inputSize, p.roi, p.overlap, p.tta.length]);
  const changed = JSON.stringify(p) !== JSON.stringify(defaults);
  const toggleTta = (t: MotorsTta, on: boolean) => set({ tta: MOTORS_TTA.filter((x) => (x === t ? on : p.tta.includes(x))) });

  return (
    <Panel
      title="Preset: flagellar motors"
      testId="motor-params"
      extra={
        <button className="link" onClick={() => useMotors.setState({ params: defaults })} disabled={!changed || running} data-testid="params-reset" title={`Back to the values of ${from}`}>
          reset
        </button>
      }
    >
      <div className="muted small params-from" data-testid="params-from">
        defaults: {from === 'motorsPreset' ? 'BYU 2025 1st place (motorsPreset)' : `model card ${from}`}
      </div>
      <fieldset disabled={running} className="form">
        <div className="subhead">Preprocessing & tiling</div>
        <TripleInput label="Input size" hint="resize to, voxels" value={p.inputSize} integer min={1} testId="param-input" onChange={(v) => set({ inputSize: v })} />
        <TripleInput label="Window (roi)" hint="voxels" value={p.roi} integer min={1} testId="param-roi" onChange={(v) => set({ roi: v })} />
        <TripleInput label="Overlap" hint="per axis, [0, 1)" value={p.overlap} min={0} max={0.99} testId="param-overlap" onChange={(v) => set({ overlap: v })} />
        <Num label="SW batch" title="Windows per model call" value={p.swBatch} integer min={1} onChange={(v) => set({ swBatch: v })} testId="param-sw-batch" />
        <Num label="Weight margin" title="Fraction of the roi on each side that gets the low weight" value={p.weightMargin} min={0} max={0.5} onChange={(v) => set({ weightMargin: v })} testId="param-weight-margin" />
        <Num label="Margin weight" title="Weight of the margins (centre = 1)" value={p.weightFloor} min={1e-6} max={1} onChange={(v) => set({ weightFloor: v })} testId="param-weight-floor" />
        <div className="field">
          <span title="Test-time flips; logits are averaged over them">TTA</span>
          <span className="tta-boxes">
            {MOTORS_TTA.map((t) => (
              <label key={t} className="tta-box">
                <input type="checkbox" checked={p.tta.includes(t)} onChange={(e) => toggleTta(t, e.target.checked)} data-testid={`param-tta-${t}`} />
                {TTA_TEXT[t]}
              </label>
            ))}
          </span>
        </div>
        {plan && (
          <div className="muted small" data-testid="param-plan">
            {plan.n} window{plan.n === 1 ? '' : 's'} × {p.tta.length} TTA = {plan.passes} model runs per tomogram and model
          </div>
        )}
        <div className="subhead">Peaks</div>
        <Num label="Max peaks" title="Points per tomogram (1 = the argmax, as the pipeline)" value={p.maxPeaks} integer min={1} onChange={(v) => set({ maxPeaks: v })} testId="param-max-peaks" />
        <Num label="Min distance" title="Minimum distance between peaks (original voxels), when max peaks > 1" value={p.minPeakDistance} min={0} onChange={(v) => set({ minPeakDistance: v })} testId="param-min-distance" unit="vox" />
        <div className="subhead">Threshold & metric (live)</div>
        <Num label="Quantile" title="Batch quantile of the scores used as the cutoff" value={p.quantile} min={0} max={1} onChange={(v) => set({ quantile: v })} testId="param-quantile" />
        <Num label="Distance" title="A detection within this distance of the true motor is a true positive" value={p.distanceThresholdAngstrom} min={0} onChange={(v) => set({ distanceThresholdAngstrom: v })} testId="param-distance-threshold" unit="Å" />
        <Num label="Beta" title="F-beta's beta" value={p.beta} min={0} onChange={(v) => set({ beta: v })} testId="param-beta" />
        <Num label="Voxel spacing" title="Angstrom per voxel when neither the file nor the labels give one" value={p.defaultVoxelSpacing} min={0} onChange={(v) => set({ defaultVoxelSpacing: v })} testId="param-voxel-spacing" unit="Å" />
      </fieldset>
      {problems.length > 0 && (
        <div className="run-error" data-testid="param-problems">
          {problems.map((x) => (
            <div key={x}>{x}</div>
          ))}
        </div>
      )}
    </Panel>
  );
}
