/** Tissue volumes in mL and voxels per label of every finished volume, and the preset's downloads (tissue_volumes.csv, each volume's labels as NIfTI). */
import type { BrainRow } from '../../core/presets/brain';
import { useFinishedRows, useKit } from '../kit/hooks';
import { errorText, say } from '../kit/messages';
import { downloadExport, downloadItemExport } from '../kit/runner';
import { labelColor, labelName } from '../overlay';
import { Panel } from '../Panel';
import { brainStore as store } from './page';

const ml = (x: number): string => x.toFixed(1);

export function TissueTable() {
  const rows = useFinishedRows<BrainRow>(store);
  const names = useKit(store, (s) => s.params.labels);
  const selected = useKit(store, (s) => s.selected);
  const pending = useKit(store, (s) => s.items.filter((t) => t.status !== 'done').length);
  return (
    <section className="kit-results">
      <div className="kit-results-head">
        <h2>Tissue volumes</h2>
        <span className="muted small">
          {rows.length} volume{rows.length === 1 ? '' : 's'}
          {pending > 0 ? ` · ${pending} not done` : ''} · on each volume's own grid (mL from its voxel size) · click a row to show it
        </span>
      </div>
      <div className="kit-results-scroll">
        <table className="kit-table brain-table" data-testid="brain-table">
          <thead>
            <tr>
              <th>volume</th>
              <th>label</th>
              <th className="num-col">voxels</th>
              <th className="num-col">mL</th>
              <th className="num-col" title="Share of the voxels that are not background">% of tissue</th>
              <th className="num-col" title="Voxels on the conformed grid the model labelled (256³, 1 mm)">conformed voxels</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={6} className="muted empty-row">
                  No results yet.
                </td>
              </tr>
            )}
            {rows.flatMap((r) => {
              const tissue = r.tissues.filter((t) => t.label !== 0).reduce((a, t) => a + t.voxels, 0) || 1;
              return r.tissues.map((t, i) => {
                const [cr, cg, cb] = labelColor(t.label);
                return (
                  <tr
                    key={`${r.id}-${t.label}`}
                    className={`${r.id === selected ? 'selected' : ''} ${i === 0 ? 'first' : ''}`}
                    onClick={() => store.setState({ selected: r.id })}
                    data-testid={`brain-row-${r.id}-${t.label}`}
                  >
                    <td className="mono">{i === 0 ? r.id : ''}</td>
                    <td>
                      <span className={`swatch ${t.label === 0 ? 'clear' : ''}`} style={t.label === 0 ? undefined : { background: `rgb(${cr},${cg},${cb})` }} /> {labelName(t.label, names)}
                    </td>
                    <td className="num-col" data-testid="cell-voxels">
                      {t.voxels.toLocaleString('en-US')}
                    </td>
                    <td className="num-col" data-testid="cell-ml">
                      {ml(t.ml)}
                    </td>
                    <td className="num-col muted">{t.label === 0 ? '–' : ((100 * t.voxels) / tissue).toFixed(1)}</td>
                    <td className="num-col muted">{t.conformedVoxels.toLocaleString('en-US')}</td>
                  </tr>
                );
              });
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The preset's exports (tissue_volumes.csv) and the selected volume's own files (its labels in its space). */
export function DownloadsPanel() {
  const nDone = useKit(store, (s) => s.items.filter((t) => t.status === 'done').length);
  const selected = useKit(store, (s) => s.items.find((t) => t.id === s.selected && t.status === 'done')?.id ?? null);
  const guard = (what: string, f: () => unknown) => async () => {
    try {
      await f();
    } catch (e) {
      say('error', `Could not save ${what}: ${errorText(e)}`);
    }
  };
  return (
    <Panel title="Downloads" testId="brain-downloads">
      <div className="save-row">
        {store.preset.exports.map((x, i) => (
          <button key={x.file} onClick={guard(x.file, () => downloadExport(store, i))} disabled={nDone === 0} data-testid={`brain-download-${i}`} title={`${x.file} of the ${nDone} finished volume${nDone === 1 ? '' : 's'}`}>
            {x.label}
          </button>
        ))}
        {(store.preset.itemExports ?? []).map((x, i) => (
          <button
            key={x.label}
            onClick={guard(x.label, () => (selected ? downloadItemExport(store, selected, i) : undefined))}
            disabled={!selected}
            data-testid={`brain-download-item-${i}`}
            title="The selected volume's labels, uint8, on its own grid with its affine"
          >
            {selected ? `${selected} ` : ''}
            {x.label}
          </button>
        ))}
      </div>
    </Panel>
  );
}
