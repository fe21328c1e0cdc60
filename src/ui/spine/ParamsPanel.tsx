/** Every value of the spine preset (SpineParams), editable; defaults from the model cards or spinePreset. */
import { useMemo } from 'react';
import { validateSpineParams, type SpineParams } from '../../core/presets/spine';
import { NumField as Num } from '../common';
import { Panel } from '../Panel';
import { setParams, useSpine } from './state';

export function ParamsPanel() {
  const p = useSpine((s) => s.params);
  const from = useSpine((s) => s.paramsFrom);
  const defaults = useSpine((s) => s.defaults);
  const running = useSpine((s) => s.batch.status === 'running');
  const set = (patch: Partial<SpineParams>) => setParams(patch);
  const problems = useMemo(() => validateSpineParams(p), [p]);
  const changed = JSON.stringify(p) !== JSON.stringify(defaults);
  return (
    <Panel
      title="Preset: cervical spine"
      testId="spine-params"
      extra={
        <button className="link" onClick={() => useSpine.setState({ params: defaults })} disabled={!changed || running} data-testid="spine-params-reset" title={`Back to the values of ${from}`}>
          reset
        </button>
      }
    >
      <div className="muted small params-from" data-testid="spine-params-from">
        defaults: {from === 'spinePreset' ? 'RSNA 2022 1st place (spinePreset)' : `model card ${from}`}
      </div>
      <fieldset disabled={running} className="form">
        <div className="subhead">Series</div>
        <label className="field" title="position: by ImagePositionPatient along the slice normal, head first; filename: by the number in the file name (the original solution)">
          <span>Slice order</span>
          <select value={p.order} onChange={(e) => set({ order: e.target.value as SpineParams['order'] })} data-testid="spine-param-order">
            <option value="position">position (head first)</option>
            <option value="filename">file name number</option>
          </select>
        </label>
        <div className="subhead">Stage 1: segmentation</div>
        <Num label="Slices" title="Slices sampled: round(quantile(range(n), linspace(0, 1, slices)))" value={p.sliceCount} integer min={1} onChange={(v) => set({ sliceCount: v })} testId="spine-param-slices" />
        <Num label="Size" title="In-plane size each slice is resized to (area interpolation)" value={p.size} integer min={1} onChange={(v) => set({ size: v })} testId="spine-param-size" />
        <label className="field" title="Axis order of the model input">
          <span>Layout</span>
          <select value={p.layout} onChange={(e) => set({ layout: e.target.value as SpineParams['layout'] })} data-testid="spine-param-layout">
            <option value="slices-last">(N, C, rows, cols, slices)</option>
            <option value="slices-first">(N, C, slices, rows, cols)</option>
          </select>
        </label>
        <Num label="Channels" title="The normalised volume is repeated to this many channels" value={p.channels} integer min={1} onChange={(v) => set({ channels: v })} testId="spine-param-channels" />
        <Num label="Threshold" title="Mask: probability above this" value={p.threshold} min={0} max={1} onChange={(v) => set({ threshold: v })} testId="spine-param-threshold" />
        <Num label="Fallback" title="Used for a vertebra with no voxel above the threshold" value={p.fallbackThreshold} min={0} max={1} onChange={(v) => set({ fallbackThreshold: v })} testId="spine-param-fallback" />
        <div className="subhead">Stage 2: fractures</div>
        <Num label="Crop slices" title="Slices per vertebra, evenly spaced over its z range" value={p.cropSlices} integer min={1} onChange={(v) => set({ cropSlices: v })} testId="spine-param-crop-slices" />
        <Num label="Neighbours" title="Stored slices per crop (ind-2..ind+2)" value={p.cropChannels} integer min={1} onChange={(v) => set({ cropChannels: v })} testId="spine-param-crop-channels" />
        <Num label="Crop size" title="Crops are resized to this (bilinear)" value={p.cropSize} integer min={1} onChange={(v) => set({ cropSize: v })} testId="spine-param-crop-size" />
        <Num label="Crop batch" title="Crops per model call" value={p.cropBatch} integer min={1} onChange={(v) => set({ cropBatch: v })} testId="spine-param-crop-batch" />
        <Num label="Clamp low" title="C_k = clamp(mean sigmoid, low, high)" value={p.clampLow} min={0} max={1} onChange={(v) => set({ clampLow: v })} testId="spine-param-clamp-low" />
        <Num label="Clamp high" value={p.clampHigh} min={0} max={1} onChange={(v) => set({ clampHigh: v })} testId="spine-param-clamp-high" />
        <label className="field" title="head: the model's patient output when it has one, else 1 - prod(1 - C_k); product: always 1 - prod(1 - C_k)">
          <span>Patient</span>
          <select value={p.patient} onChange={(e) => set({ patient: e.target.value as SpineParams['patient'] })} data-testid="spine-param-patient">
            <option value="head">patient head</option>
            <option value="product">1 − ∏(1 − C_k)</option>
          </select>
        </label>
      </fieldset>
      {problems.length > 0 && (
        <div className="run-error" data-testid="spine-param-problems">
          {problems.map((x) => (
            <div key={x}>{x}</div>
          ))}
        </div>
      )}
    </Panel>
  );
}
