import { labelsSoon } from './derived';
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
