import { dtypeOf, spatialShape } from '../core/volume';
import { fmtBytes, fmtValue } from './format';
import { KV, Panel } from './Panel';
import { useStore } from './store';

const UNIT: Record<string, string> = { mm: 'mm', angstrom: 'Å', unknown: '' };

/** The loaded volume: shape, type, spacing, range, affine. */
export function VolumePanel() {
  const loaded = useStore((s) => s.volume);
  if (!loaded) {
    return (
      <Panel title="Volume" testId="volume-panel">
        <p className="muted">None. NIfTI (.nii, .nii.gz), MRC (.mrc, .map, .rec) or NumPy (.npy).</p>
      </Panel>
    );
  }
  const { volume, fileName, range } = loaded;
  const [D, H, W] = spatialShape(volume);
  const C = volume.shape.length > 3 ? volume.data.length / (D * H * W) : 1;
  const unit = UNIT[volume.unit] ?? '';
  return (
    <Panel title="Volume" testId="volume-panel">
      <div className="file-name" title={fileName} data-testid="volume-name">
        {fileName}
      </div>
      <KV
        rows={[
          [
            'Shape',
            <span key="s" data-testid="volume-shape" title={C > 1 ? 'channels × D × H × W' : 'D × H × W (slowest to fastest axis)'}>
              {`${C > 1 ? `${C} ch × ` : ''}${D}×${H}×${W}`}
            </span>,
          ],
          ['Type', `${dtypeOf(volume.data)} · ${fmtBytes(volume.data.byteLength)}`],
          ['Spacing', `${volume.spacing.map((s) => fmtValue(s)).join(' × ')} ${unit}`],
          ['Range', `${fmtValue(range[0])} … ${fmtValue(range[1])}`],
          ['Format', volume.source?.format ?? '–'],
        ]}
      />
      <details className="more">
        <summary>Affine (voxel → world)</summary>
        <table className="affine">
          <tbody>
            {volume.affine.map((row, i) => (
              <tr key={i}>
                {row.map((v, j) => (
                  <td key={j}>{fmtValue(Math.abs(v) < 1e-9 ? 0 : v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </Panel>
  );
}
