/** The protein page's results: the class probabilities of the field of view shown, its cells with their classes, and every field of view. */
import { useKit } from '../kit/hooks';
import { Panel } from '../Panel';
import { ClassBars } from '../view2d/ClassBars';
import { proteinStore as store } from './page';
import { pickCell, setView, useShownResult } from './ProteinView';
import { classColour } from './render';

export function ProbabilityPanel() {
  const { entry, result, camClass } = useShownResult();
  const classes = useKit(store, (s) => s.params.classes);
  return (
    <Panel title={`Probabilities${entry ? ` · ${entry.id}` : ''}`} testId="protein-probs">
      {!result ? (
        <div className="muted small">Run to see the {classes.length} class probabilities (sigmoid of the averaged logits).</div>
      ) : (
        <ClassBars
          classes={classes}
          values={result.probabilities}
          selected={camClass}
          onPick={(k) => setView({ camClass: k, showCam: true })}
          testId="protein-bars"
          rowTestId={(k) => `prob-${k}`}
          valueTestId={(k) => `prob-value-${k}`}
          digits={4}
          colour={classColour}
          pickHint="show its CAM"
        />
      )}
    </Panel>
  );
}

export function CellTable() {
  const { result: r } = useShownResult();
  const classes = useKit(store, (s) => s.params.classes);
  const sel = useKit(store, (s) => s.ui.selectedCell);
  if (!r) return null;
  return (
    <div className="protein-table-wrap">
      <div className="subhead">Cells of {r.id} (per-cell rule: conf = clip(q p / Q, 0, p), kept when conf / p &gt; keep ratio)</div>
      <table className="protein-table" data-testid="protein-cell-table">
        <thead>
          <tr>
            <th>cell</th>
            <th>area</th>
            <th>classes (confidence)</th>
          </tr>
        </thead>
        <tbody>
          {r.cellResults.map((c) => (
            <tr key={c.id} className={c.id === sel ? 'selected' : ''} onClick={() => pickCell(c.id === sel ? null : c.id)} data-testid={`cell-row-${c.id}`}>
              <td className="mono">{c.id}</td>
              <td className="mono">{c.area}</td>
              <td>
                {[...c.labels]
                  .sort((a, b) => b.confidence - a.confidence)
                  .map((l) => (
                    <span key={l.cls} className="protein-chip" style={{ borderColor: classColour(l.cls) }} title={`q = ${l.q?.toFixed(4) ?? '-'}`}>
                      {classes[l.cls]} <span className="mono">{l.confidence.toFixed(3)}</span>
                    </span>
                  ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AllImagesTable() {
  const items = useKit(store, (s) => s.items);
  const classes = useKit(store, (s) => s.params.classes);
  const selected = useKit(store, (s) => s.selected);
  if (items.length === 0) return null;
  return (
    <div className="protein-table-wrap">
      <div className="subhead">All fields of view</div>
      <table className="protein-table" data-testid="protein-all-table">
        <thead>
          <tr>
            <th>image</th>
            <th>status</th>
            <th>cells</th>
            <th>top classes (p)</th>
            <th>time</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => {
            const r = t.status === 'done' ? t.row : undefined;
            const top = r
              ? r.probabilities
                  .map((p, k) => [p, k] as const)
                  .sort((a, b) => b[0] - a[0])
                  .slice(0, 3)
              : [];
            return (
              <tr key={t.id} className={t.id === selected ? 'selected' : ''} onClick={() => store.setState({ selected: t.id })} data-testid={`all-row-${t.id}`}>
                <td className="mono">{t.id}</td>
                <td>{t.status}</td>
                <td className="mono">{r ? r.cellCount : '–'}</td>
                <td className="small">{r ? top.map(([p, k]) => `${classes[k]} ${p.toFixed(3)}`).join(', ') : (t.error ?? '')}</td>
                <td className="mono small">{r && t.wallMs !== undefined ? `${(t.wallMs / 1000).toFixed(2)} s` : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
