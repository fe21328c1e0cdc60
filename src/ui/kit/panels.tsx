/**
 * The panels every kit page shows the same way: the queue of items (status, read and run
 * progress, errors and warnings in their rows) and the run panel (backend, Run / Cancel, batch
 * progress with ETA, the backends the results ran on). Test ids start with the page's prefix
 * ('motor' → 'motor-run', 'motor-queue'); queue rows are `queue-row-<id>`, `queue-status-<id>`,
 * `queue-error-<id>`, `queue-warnings-<id>`, `queue-progress-<id>` (with `rowIds: 'fov'`: `fov-<id>`,
 * `fov-status-<id>`, `fov-error-<id>`…); each row carries its status as `data-status`. The items a
 * source read into stay together; on a page with `onePerSource` they offer the choice of the one that runs.
 */
import type { ReactNode } from 'react';
import { missingModels } from '../../core/preset/index';
import type { RunProgress } from '../../core/preset/types';
import { BackendField, BackendsUsed, BatchBadge, breakAfterTimes, ProgressBar } from '../common';
import { fmtClock } from '../format';
import { Panel } from '../Panel';
import { useKit } from './hooks';
import { cancelReads, choosePart, clearItems, removeItem } from './intake';
import { batchFraction, count, etaText, isRunnable, itemScopeLine, msPerStep } from './pure';
import { cancelBatch, currentRunKey, isInterrupted, progressFractionOf, runBatch } from './runner';
import { setBackend } from './store';
import type { AnyStore, ItemEntry, ItemStatus } from './types';
import './kit.css';

const cap = (s: string): string => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** A column of the queue the page adds (shape, size…), after the id. */
export interface QueueColumn {
  head: string;
  cell(entry: ItemEntry): ReactNode;
}

export interface QueuePanelProps {
  store: AnyStore;
  prefix: string;
  columns?: readonly QueueColumn[];
  /** Heading of the id column (default 'id'). */
  idHead?: string;
  /** A row was clicked (default: select it). */
  onSelect?(entry: ItemEntry): void;
  /** What the progress bar's tooltip says of the run progress (default: its stage or done / total). */
  progressTitle?(p: RunProgress): string;
  /** Test ids of the rows: `${rowIds}-<id>`, `${rowIds}-status-<id>`… (default `queue-row-<id>`, `queue-status-<id>`…). */
  rowIds?: string;
  /** Test id prefix of a source's group of items ('study' → 'study-<source id>'); default none. */
  groupIds?: string;
  /** What a status is called in the rows (spine: waiting → 'ready'). */
  statusText?: Partial<Record<ItemStatus, string>>;
}

/** A queue row's test id: the row, or one of its parts ('status', 'error', 'progress'). */
const rowTestId = (rowIds: string | undefined, id: string, part?: string): string =>
  rowIds ? `${rowIds}-${part ? `${part}-` : ''}${id}` : `queue-${part ?? 'row'}-${id}`;

const STATUS_BADGE: Record<ItemStatus, string> = { loading: 'loading', waiting: 'idle', running: 'running', done: 'done', error: 'error', cancelled: 'cancelled' };

/** The items in queue order, those of one source together (a source's id, its items). */
function groupsOf(items: readonly ItemEntry[]): { source: string; items: ItemEntry[] }[] {
  const out: { source: string; items: ItemEntry[] }[] = [];
  for (const t of items) {
    const source = t.source?.source.id ?? t.id;
    const g = out.find((x) => x.source === source);
    if (g) g.items.push(t);
    else out.push({ source, items: [t] });
  }
  return out;
}

export function QueuePanel({ store, prefix, columns = [], idHead = 'id', onSelect, progressTitle, rowIds, groupIds, statusText = {} }: QueuePanelProps) {
  const { item, items: itemsText } = store.config.texts;
  const choice = store.config.onePerSource === true;
  const items = useKit(store, (s) => s.items);
  const selected = useKit(store, (s) => s.selected);
  const running = useKit(store, (s) => s.batch.status === 'running');
  const cards = useKit(store, (s) => s.cards);
  const nErr = items.filter((t) => t.status === 'error').length;
  const select = onSelect ?? ((t: ItemEntry) => store.setState({ selected: t.id }));
  return (
    <Panel
      title={`${cap(itemsText)}${items.length ? ` (${items.length})` : ''}`}
      testId={`${prefix}-queue`}
      extra={
        items.length > 0 ? (
          <button className="link" onClick={() => clearItems(store)} disabled={running}>
            clear
          </button>
        ) : undefined
      }
    >
      {items.length === 0 ? (
        <p className="muted small">Drop {itemsText} anywhere on the page.</p>
      ) : (
        <table className="queue-table">
          <thead>
            <tr>
              <th>{idHead}</th>
              {columns.map((c) => (
                <th key={c.head}>{c.head}</th>
              ))}
              <th>status</th>
              <th />
            </tr>
          </thead>
          {groupsOf(items).map((g) => (
            <tbody key={g.source} data-testid={groupIds ? `${groupIds}-${g.source}` : undefined}>
              {g.items.map((t) => (
                <QueueRow
                  key={t.id}
                  store={store}
                  t={t}
                  columns={columns}
                  selected={t.id === selected}
                  running={running}
                  onSelect={select}
                  progressTitle={progressTitle}
                  rowIds={rowIds}
                  statusText={statusText}
                  choice={choice && g.items.length > 1 ? g.source : null}
                  scope={itemScopeLine(t, cards)}
                />
              ))}
            </tbody>
          ))}
        </table>
      )}
      {nErr > 0 && (
        <div className="small warn" data-testid="queue-error-count">
          {count(nErr, item, itemsText)} with errors; the others run and export.
        </div>
      )}
    </Panel>
  );
}

function QueueRow({ store, t, columns, selected, running, onSelect, progressTitle, rowIds, statusText, choice, scope }: {
  store: AnyStore;
  t: ItemEntry;
  columns: readonly QueueColumn[];
  selected: boolean;
  running: boolean;
  onSelect(t: ItemEntry): void;
  progressTitle?(p: RunProgress): string;
  rowIds?: string;
  statusText: Partial<Record<ItemStatus, string>>;
  /** The source whose items offer a choice of the one that runs, or null. */
  choice: string | null;
  /** The item is outside what the model cards declare: the line that says so, or null. */
  scope: string | null;
}) {
  const tid = (part?: string) => rowTestId(rowIds, t.id, part);
  const p = t.progress as RunProgress | undefined;
  const fraction = progressFractionOf(store);
  const frac = t.status === 'loading' ? (t.loadProgress ?? 0) : p ? (fraction ? fraction(p) : p.total > 0 ? p.done / p.total : 0) : t.status === 'done' ? 1 : 0;
  const title = p ? (progressTitle?.(p) ?? p.stage ?? `${p.done} / ${p.total}`) : undefined;
  return (
    <>
      <tr className={`queue-row ${selected ? 'selected' : ''} st-${t.status}${t.excluded ? ' excluded' : ''}`} onClick={() => onSelect(t)} data-testid={tid()} data-status={t.status}>
        <td className="mono ellipsis" title={`${t.id} · ${t.sourceLabel}`}>
          {choice !== null && (
            <input
              type="radio"
              name={`choice-${choice}`}
              checked={!t.excluded}
              disabled={running}
              onChange={() => choosePart(store, t.id)}
              onClick={(e) => e.stopPropagation()}
              title={`Run this one of ${choice}`}
              data-testid={tid('choose')}
            />
          )}
          {t.id}
          <div className="muted small">{t.sourceLabel}</div>
        </td>
        {columns.map((c) => (
          <td key={c.head} className="mono small">
            {breakAfterTimes(c.cell(t))}
          </td>
        ))}
        <td className="queue-status">
          <span className={`badge status-${STATUS_BADGE[t.status]}`} data-testid={tid('status')}>
            {statusText[t.status] ?? t.status}
          </span>
          {(t.status === 'running' || t.status === 'loading') && (
            <div className="mini-progress" title={title}>
              <div className="progress-fill" style={{ width: `${(100 * frac).toFixed(1)}%` }} />
            </div>
          )}
          {t.status === 'running' && p && (
            <div className="muted small mono" data-testid={tid('progress')}>
              {p.stage ? `${p.stage} ` : ''}
              {p.done}/{p.total}
            </div>
          )}
          {t.status === 'done' && t.wallMs !== undefined && <div className="muted small mono">{(t.wallMs / 1000).toFixed(1)} s</div>}
        </td>
        <td>
          <button
            className="ghost icon"
            onClick={(e) => {
              e.stopPropagation();
              removeItem(store, t.id);
            }}
            disabled={running && t.status === 'running'}
            aria-label={`Remove ${t.id}`}
            title="Remove from the queue"
          >
            ×
          </button>
        </td>
      </tr>
      {(t.error || t.warnings.length > 0 || scope) && (
        <tr className="queue-msg-row">
          <td colSpan={columns.length + 3}>
            {scope && (
              <div className="queue-note small warn" data-testid={tid('scope')}>
                {scope}
              </div>
            )}
            {t.error && (
              <div className="queue-error" data-testid={tid('error')}>
                {t.error}
                {isInterrupted(t.error) && <RerunButton store={store} id={t.id} tid={tid('rerun')} running={running} />}
              </div>
            )}
            {t.warnings.length > 0 && (
              <div data-testid={tid('warnings')}>
                {t.warnings.map((w) => (
                  <div key={w} className="queue-note small">
                    {w}
                  </div>
                ))}
              </div>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

/** Re-run on the row of an item a worker fault interrupted (once the fresh worker has its models). */
function RerunButton({ store, id, tid, running }: { store: AnyStore; id: string; tid: string; running: boolean }) {
  const busy = useKit(store, (s) => s.busy !== null);
  return (
    <button className="link" onClick={() => void runBatch(store)} disabled={running || busy} data-testid={tid} title={`Run ${id} again (and whatever the batch had not reached)`}>
      Re-run
    </button>
  );
}

export interface RunPanelProps {
  store: AnyStore;
  prefix: string;
  /** The Run button's tooltip. */
  runTitle?: string;
  /** Said after the batch's count while an item runs, of its progress (' · occlusion 12/225'). */
  progressNote?(p: RunProgress): string;
  /** Show the sources being read (`${prefix}-loading`, `${prefix}-loading-text`); Cancel then stops their reads too. */
  reads?: boolean;
}

/** Cancel (Esc): the run, and on a page that shows its reads, the first reads of the sources still being read. */
export function cancelAll(store: AnyStore): void {
  cancelBatch(store);
  cancelReads(store);
}

/**
 * The preset's plan of one item before a run (motors: windows per tomogram), how long it will take
 * (from the running item's first steps, else the last run's time per step on this backend), and the
 * value of the form that changes the work.
 */
function PlanLine({ store, counts, n, testId }: { store: AnyStore; counts: Record<string, number>; n: number; testId: string }) {
  const params = useKit(store, (s) => s.params);
  const items = useKit(store, (s) => s.items);
  const backend = useKit(store, (s) => s.backend);
  const plan = store.preset.plan?.(params, counts);
  if (!plan) return null;
  const { item, items: itemsText } = store.config.texts;
  const current = items.find((t) => t.status === 'running')?.progress as RunProgress | undefined;
  const perStep = current && current.done > 0 && current.total === plan.steps ? current.elapsedMs / current.done : msPerStep(items, backend);
  const lever = plan.lever ? store.preset.params.find((s) => s.key === plan.lever) : undefined;
  const time =
    perStep === null
      ? `the time per ${item} is estimated after its first steps`
      : `about ${fmtClock(perStep * plan.steps)} per ${item}${n > 1 ? `, ${fmtClock(perStep * plan.steps * n)} for ${count(n, item, itemsText)}` : ''} (${current ? 'from its first steps' : "at the last run's pace"})`;
  return (
    <div className="muted small" data-testid={testId}>
      {plan.line} · {time}
      {lever ? ` · the ${lever.label} in the form changes it` : ''}
    </div>
  );
}

/** Backend, Run / Cancel, the batch's progress with ETA, and what the results ran on. */
export function RunPanel({ store, prefix, runTitle, progressNote, reads = false }: RunPanelProps) {
  const { item, items: itemsText } = store.config.texts;
  const batch = useKit(store, (s) => s.batch);
  const items = useKit(store, (s) => s.items);
  const backend = useKit(store, (s) => s.backend);
  const models = useKit(store, (s) => s.models);
  const busy = useKit(store, (s) => s.busy !== null);
  const key = useKit(store, () => currentRunKey(store));
  const running = batch.status === 'running';
  const reading = reads ? items.filter((t) => t.status === 'loading') : [];
  const runnable = items.filter(isRunnable);
  const stale = runnable.filter((t) => t.status !== 'done' || t.runKey !== key).length;
  const counts: Record<string, number> = {};
  for (const m of models) counts[m.role] = (counts[m.role] ?? 0) + 1;
  const missing = missingModels(store.preset, counts);
  const ready = !missing && runnable.length > 0 && !busy;
  const frac = batchFraction(batch.ids, items, progressFractionOf(store));
  const nDone = batch.ids.filter((id) => items.find((t) => t.id === id)?.status === 'done').length;
  const current = items.find((t) => t.status === 'running')?.progress as RunProgress | undefined;
  const cards = useKit(store, (s) => s.cards);
  const outOfScope = runnable.map((t) => itemScopeLine(t, cards)).filter((l): l is string => l !== null);
  const finished = items.filter((t) => t.status === 'done' && t.backend);
  const backends = [...new Set(finished.map((t) => t.backend!))];
  const reason = finished[0]?.backendReason;
  const n = stale || runnable.length;
  const label = running ? 'Running…' : runnable.length === 0 ? 'Run' : stale === 0 ? `Run again (${runnable.length})` : `Run ${count(n, item, itemsText)}`;
  return (
    <Panel title="Run" testId={`${prefix}-run-panel`} extra={<BatchBadge status={batch.status} testId={`${prefix}-batch-status`} />}>
      <BackendField value={backend} onChange={(b) => setBackend(store, b)} disabled={running} testId={`${prefix}-backend`} detailed />
      <div className="row run-row">
        <button className="primary grow" onClick={() => void runBatch(store)} disabled={running || !ready} data-testid={`${prefix}-run`} title={runTitle ?? `Run the models on the ${itemsText} whose results are missing or out of date`}>
          {label}
        </button>
        <button
          onClick={() => (reads ? cancelAll(store) : cancelBatch(store))}
          disabled={!(running || reading.length > 0) || batch.cancelRequested}
          data-testid={`${prefix}-cancel`}
          title="Cancel (Esc)"
        >
          {batch.cancelRequested ? 'Stopping…' : 'Cancel'} <kbd>Esc</kbd>
        </button>
      </div>
      {ready && <PlanLine store={store} counts={counts} n={n} testId={`${prefix}-plan`} />}
      {!ready && !running && <div className="muted small">{missing ? `${cap(missing)} (.onnx) to run.` : runnable.length === 0 ? `Add ${itemsText} to run.` : 'Loading…'}</div>}
      {reading.length > 0 && (
        <div className="progress-block" data-testid={`${prefix}-loading`}>
          <ProgressBar fraction={reading[0].loadProgress ?? 0} status="running" />
          <div className="progress-text">
            <span data-testid={`${prefix}-loading-text`}>
              {store.config.texts.reading ?? 'Reading'} {reading[0].id} · {Math.round(100 * (reading[0].loadProgress ?? 0))} %{reading.length > 1 ? ` · ${reading.length - 1} more queued` : ''}
            </span>
          </div>
        </div>
      )}
      {batch.ids.length > 0 && (
        <div className="progress-block" data-testid={`${prefix}-progress`}>
          <ProgressBar fraction={frac} status={batch.status} />
          <div className="progress-text">
            <span data-testid={`${prefix}-progress-text`}>
              {nDone} / {batch.ids.length} {itemsText}
              {running && current && progressNote ? progressNote(current) : ''}
            </span>
            <span className="muted" data-testid={`${prefix}-eta`}>
              {fmtClock(batch.elapsedMs)} elapsed{running ? ` · ${etaText(batch.eta)}` : ''}
            </span>
          </div>
        </div>
      )}
      {outOfScope.length > 0 && (
        <div className="small warn scope-lines" data-testid={`${prefix}-scope`}>
          {outOfScope.slice(0, 3).map((l) => (
            <div key={l}>{l}</div>
          ))}
          {outOfScope.length > 3 && <div>and {count(outOfScope.length - 3, `other ${item}`, `other ${itemsText}`)} outside what the model cards expect</div>}
        </div>
      )}
      <BackendsUsed backends={backends} reason={reason} testId={`${prefix}-backend-used`} />
    </Panel>
  );
}
