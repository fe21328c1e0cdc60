/**
 * The inputs panel of a kit page, from a list of open buttons: each opens a file picker (files or
 * a folder) whose files go through the page's intake (`addFiles`: the preset sorts them into
 * items, models, cards and labels); then the models (role by role when the preset has several)
 * and the labels, each removable.
 */
import { useRef, type ReactNode } from 'react';
import { ModelList, takeFiles } from '../common';
import { Panel } from '../Panel';
import { pickedFiles } from './files';
import { useKit } from './hooks';
import { addFiles, clearLabels, loadLabelsFile } from './intake';
import { removeModel } from './models';
import type { AnyStore, KitModel } from './types';

export interface OpenButton {
  label: string;
  title?: string;
  testId: string;
  /** Test id of its hidden file input. */
  inputTestId: string;
  /** File name patterns the picker offers (default: the preset's `inputs.accept`). */
  accept?: string;
  /** Picks a folder (its files with their paths inside it). */
  folder?: boolean;
  /** Off while a run goes or the page is busy (models cannot change under a run). */
  idleOnly?: boolean;
  /** Picks one file, read as the labels (whatever its name). */
  labels?: boolean;
}

export interface InputsPanelProps {
  store: AnyStore;
  testId: string;
  buttons: readonly OpenButton[];
  /** The open buttons' grid has this many columns (default: as many as fit). */
  columns?: number;
  models: {
    /** The list is `${testId}s`, each model `${testId}-<name>`. */
    testId: string;
    className: string;
    /** After the name (what kind of model it is, its size…). */
    detail(m: KitModel): ReactNode;
    /** After the heading when there are several of a role ('(folds, averaged)'). */
    combined?: string;
    /** All roles in one list under 'Models' (each model marked by `badge`). */
    oneList?: boolean;
    /** Said while there is none. */
    empty?: string;
    /** Before the name (the model's role). */
    badge?(m: KitModel): ReactNode;
  };
  /** The labels' line (pages whose preset reads labels). */
  labels?: {
    testId: string;
    /** Shown after the file's name, in parentheses ('2' eeg_ids, '2 images'). */
    summary(parsed: unknown): string;
    /** Said while there are none. */
    none: string;
  };
  children?: ReactNode;
}

function OpenFiles({ store, b, disabled }: { store: AnyStore; b: OpenButton; disabled: boolean }) {
  const ref = useRef<HTMLInputElement>(null);
  return (
    <>
      <button onClick={() => ref.current?.click()} disabled={disabled} data-testid={b.testId} title={b.title}>
        {b.label}
      </button>
      <input
        ref={ref}
        type="file"
        hidden
        multiple={!b.labels}
        {...(b.folder ? { webkitdirectory: '', directory: '' } : { accept: b.accept ?? store.preset.inputs.accept.join(',') })}
        onChange={(e) => {
          const files = takeFiles(e);
          if (!b.labels) void addFiles(store, pickedFiles(files));
          else if (files[0]) void loadLabelsFile(store, files[0]);
        }}
        data-testid={b.inputTestId}
      />
    </>
  );
}

export function InputsPanel({ store, testId, buttons, columns, models: m, labels: l, children }: InputsPanelProps) {
  const running = useKit(store, (s) => s.batch.status === 'running');
  const busy = useKit(store, (s) => s.busy);
  const models = useKit(store, (s) => s.models);
  const labels = useKit(store, (s) => s.labels);
  const roles = m.oneList ? [{ role: '', label: 'model' }] : store.preset.models;
  return (
    <Panel title="Inputs" testId={testId}>
      <div className="kit-open-grid" style={columns ? { gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` } : undefined}>
        {buttons.map((b) => (
          <OpenFiles key={b.testId} store={store} b={b} disabled={!!b.idleOnly && (running || busy !== null)} />
        ))}
      </div>
      {busy && <div className="muted small">{busy}</div>}
      {roles.map((r) => {
        const mine = m.oneList ? models : models.filter((x) => x.role === r.role);
        return (
          <div key={r.role}>
            <div className="subhead">
              {roles.length > 1 ? `${r.label[0].toUpperCase()}${r.label.slice(1)}s` : 'Models'} {mine.length > 1 && m.combined && <span className="muted">({mine.length}, {m.combined})</span>}
            </div>
            <ModelList
              models={mine}
              className={m.className}
              testId={m.testId}
              {...(m.empty ? { empty: m.empty } : {})}
              {...(m.badge ? { badge: m.badge } : {})}
              detail={m.detail}
              onRemove={(name) => removeModel(store, name)}
              disabled={running}
            />
          </div>
        );
      })}
      {store.preset.labels && l && (
        <>
          <div className="subhead">{store.preset.labels.label[0].toUpperCase() + store.preset.labels.label.slice(1)}</div>
          {labels ? (
            <div className="row small kit-labels" data-testid={l.testId}>
              <span className="grow mono ellipsis" title={labels.name}>
                {labels.name} ({l.summary(labels.parsed)})
              </span>
              <button className="ghost icon" onClick={() => clearLabels(store)} aria-label="Remove the labels" title="Remove">
                ×
              </button>
            </div>
          ) : (
            <div className="muted small">{l.none}</div>
          )}
        </>
      )}
      {children}
    </Panel>
  );
}
