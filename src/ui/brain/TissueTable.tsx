/** Tissue volumes in mL and voxels per label of every finished volume, and the preset's downloads (tissue_volumes.csv, each volume's labels as NIfTI). */
import { useMemo } from 'react';
import type { BrainRow, BrainTissue } from '../../core/presets/brain';
import { useFinishedRows, useKit } from '../kit/hooks';
import { errorText, say } from '../kit/messages';
import { ResultsTable, type TableColumn } from '../kit/ResultsTable';
import { downloadExport, downloadItemExport } from '../kit/runner';
import { labelColor, labelName } from '../overlay';
import { Panel } from '../Panel';
import { brainStore as store } from './page';

const ml = (x: number): string => x.toFixed(1);

/** A row: one label of one volume (`first`: the volume's first, which names it). */
interface TissueRow {
  id: string;
  t: BrainTissue;
  first: boolean;
  /** The volume's voxels that are not background. */
  tissue: number;
}

const tissueRows = (rows: readonly BrainRow[]): TissueRow[] =>
  rows.flatMap((r) => {
    const tissue = r.tissues.filter((t) => t.label !== 0).reduce((a, t) => a + t.voxels, 0) || 1;
    return r.tissues.map((t, i) => ({ id: r.id, t, first: i === 0, tissue }));
  });

function Swatch({ label }: { label: number }) {
  const [cr, cg, cb] = labelColor(label);
  return <span className={`swatch ${label === 0 ? 'clear' : ''}`} style={label === 0 ? undefined : { background: `rgb(${cr},${cg},${cb})` }} />;
}

const columns = (names: string[]): TableColumn<TissueRow>[] => [
  { head: 'volume', className: 'mono', cell: (r) => (r.first ? r.id : '') },
  {
    head: 'label',
    cell: (r) => (
      <>
        <Swatch label={r.t.label} /> {labelName(r.t.label, names)}
      </>
    ),
  },
  { head: 'voxels', num: true, testId: 'cell-voxels', cell: (r) => r.t.voxels.toLocaleString('en-US'), sort: (r) => r.t.voxels },
  { head: 'mL', num: true, testId: 'cell-ml', cell: (r) => ml(r.t.ml), sort: (r) => r.t.ml },
  { head: '% of tissue', title: 'Share of the voxels that are not background', num: true, className: 'muted', cell: (r) => (r.t.label === 0 ? '–' : ((100 * r.t.voxels) / r.tissue).toFixed(1)) },
  { head: 'conformed voxels', title: 'Voxels on the conformed grid the model labelled (256³, 1 mm)', num: true, className: 'muted', cell: (r) => r.t.conformedVoxels.toLocaleString('en-US') },
];

export function TissueTable() {
  const rows = useFinishedRows<BrainRow>(store);
  const names = useKit(store, (s) => s.params.labels);
  const selected = useKit(store, (s) => s.selected);
  const pending = useKit(store, (s) => s.items.filter((t) => t.status !== 'done').length);
  const flat = useMemo(() => tissueRows(rows), [rows]);
  return (
    <ResultsTable
      title="Tissue volumes"
      note={`${rows.length} volume${rows.length === 1 ? '' : 's'}${pending > 0 ? ` · ${pending} not done` : ''} · on each volume's own grid (mL from its voxel size) · click a row to show it`}
      tableClassName="brain-table"
      testId="brain-table"
      columns={columns(names)}
      rows={flat}
      rowKey={(r) => `${r.id}-${r.t.label}`}
      row={(r) => ({ className: `${r.id === selected ? 'selected' : ''} ${r.first ? 'first' : ''}`, onClick: () => store.setState({ selected: r.id }), testId: `brain-row-${r.id}-${r.t.label}` })}
    />
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
