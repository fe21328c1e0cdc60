import type { ModelInfo } from '../core/onnx/model';
import { labelsSoon, parityOf, rangeOf } from './derived';
import { ColourBar } from './kit/ColourBar';
import { niivueGradient } from './kit/colourScale';
import { labelColor, labelCount, labelName } from './overlay';
import { useStore } from './store';

/** Label index, colour, name and voxel count of the argmax label map. */
export function Legend() {
  const result = useStore((s) => s.result);
  const names = useStore((s) => s.labelNames);
  const threshold = useStore((s) => s.view.threshold);
  useStore((s) => s.derivedSeq); // the counts became ready
  if (!result) return null;
  // computed between frames; '…' until then
  const counts = labelsSoon(result, threshold)?.counts ?? null;
  const n = labelCount(result.channels);
  const total = counts?.reduce((a, b) => a + b, 0) || 1;
  const spacing = result.input.spacing;
  const voxVol = spacing[0] * spacing[1] * spacing[2];
  const unit = result.input.unit === 'mm' ? 'mL' : null;
  return (
    <table className="legend" data-testid="legend">
      <thead>
        <tr>
          <th>#</th>
          <th />
          <th>Label</th>
          <th className="num-col">Voxels</th>
          <th className="num-col">%</th>
          {unit && <th className="num-col">{unit}</th>}
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: n }, (_, i) => {
          const [r, g, b] = labelColor(i);
          return (
            <tr key={i} data-testid={`legend-row-${i}`}>
              <td className="muted">{i}</td>
              <td>
                <span className={`swatch ${i === 0 ? 'clear' : ''}`} style={i === 0 ? undefined : { background: `rgb(${r},${g},${b})` }} />
              </td>
              <td className="legend-name">{labelName(i, names)}</td>
              <td className="num-col" data-testid={`legend-count-${i}`}>
                {counts ? (counts[i] ?? 0).toLocaleString() : '…'}
              </td>
              <td className="num-col muted">{counts ? ((100 * (counts[i] ?? 0)) / total).toFixed(1) : '…'}</td>
              {unit && <td className="num-col muted">{counts ? (((counts[i] ?? 0) * voxVol) / 1000).toFixed(1) : '…'}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The activation the model's (first) output comes out of, when it is one that gives probabilities. */
function finalActivation(info: ModelInfo | undefined): string | null {
  const out = info?.outputs[0]?.name;
  const node = out ? info?.nodes?.find((n) => n.outputs.includes(out)) : undefined;
  return node && ['Sigmoid', 'Softmax', 'LogSoftmax', 'HardSigmoid'].includes(node.op) ? node.op : null;
}

/**
 * The colour bar of the workbench's heatmap (one channel from the threshold up to its maximum, in
 * the chosen colormap) or of the parity difference map; says whether the values are raw model
 * output (logits) or come out of the model's own final activation.
 */
export function HeatmapScale() {
  const result = useStore((s) => s.result);
  const view = useStore((s) => s.view);
  const parity = useStore((s) => s.parity);
  const info = useStore((s) => s.model?.loaded.info);
  const names = useStore((s) => s.labelNames);
  if (!result) return null;
  if (parity?.showDiff) {
    const max = parityOf(result, parity).maxAbsDiff;
    return <ColourBar gradient={niivueGradient('hot')} min={0} max={max} label="difference map" units="|output − reference|" testId="heatmap-colourbar" />;
  }
  if (view.overlay !== 'heatmap') return null;
  const [, hi] = rangeOf(result, view.channel);
  const act = finalActivation(info);
  const what = act === 'LogSoftmax' ? 'log-probability (the model ends in LogSoftmax)' : act ? `probability (the model ends in ${act})` : 'raw model output (logits: no activation applied)';
  return (
    <ColourBar
      gradient={niivueGradient(view.colormap)}
      min={view.threshold}
      max={hi > view.threshold ? hi : view.threshold}
      label={`channel ${view.channel}${names?.[view.channel] ? ` (${names[view.channel]})` : ''}`}
      units={what}
      note="values below the threshold (the left end) are transparent"
      testId="heatmap-colourbar"
    />
  );
}
