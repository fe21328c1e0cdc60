/** Small pieces the preset pages share: picked files, the model list, the backend choice, progress bars, the backends a run used. */
import { Fragment, type ChangeEvent, type ReactNode } from 'react';
import type { BackendChoice } from '../worker/protocol';
import { BackendNote } from './BackendNote';
import { NumberInput } from './NumberInput';
import { useStore } from './store';

/** The files picked in a file input; the input is emptied so that the same files can be picked again. */
export function takeFiles(e: ChangeEvent<HTMLInputElement>): File[] {
  const files = Array.from(e.target.files ?? []);
  e.target.value = ''; // the same files can be picked again
  return files;
}

export interface ModelListProps<M extends { name: string }> {
  models: M[];
  /** Class of the list (e.g. 'motor-list'). */
  className: string;
  /** The list is `${testId}s`, each model `${testId}-${name}` (e.g. 'motor-model'). */
  testId: string;
  /** Shown while there is no model. */
  empty?: ReactNode;
  /** Before the name (e.g. a stage badge). */
  badge?: (m: M) => ReactNode;
  /** After the name, muted (e.g. the parameter count). */
  detail: (m: M) => ReactNode;
  onRemove: (name: string) => void;
  /** The remove buttons are off (while a run is going). */
  disabled: boolean;
}

/** The models a preset holds, each with a remove button. */
export function ModelList<M extends { name: string }>({ models, className, testId, empty = 'No model yet.', badge, detail, onRemove, disabled }: ModelListProps<M>) {
  if (models.length === 0) return <div className="muted small">{empty}</div>;
  return (
    <ul className={className} data-testid={`${testId}s`}>
      {models.map((m) => (
        <li key={m.name} data-testid={`${testId}-${m.name}`}>
          {badge?.(m)}
          <span className="grow ellipsis mono" title={m.name}>
            {m.name}
          </span>
          <span className="muted small">{detail(m)}</span>
          <button className="ghost icon" onClick={() => onRemove(m.name)} disabled={disabled} aria-label={`Remove ${m.name}`} title="Remove">
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

export interface NumFieldProps {
  label: string;
  title?: string;
  value: number;
  onChange: (v: number) => void;
  testId: string;
  integer?: boolean;
  min?: number;
  max?: number;
  /** With a unit (also ''), the field and the unit after it share a column. */
  unit?: string;
  /** After the label (a mark such as "live"). */
  badge?: ReactNode;
}

/** A labelled number field of a preset's values (commits on Enter or blur). */
export function NumField({ label, title, value, onChange, testId, integer, min, max, unit, badge }: NumFieldProps) {
  const input = <NumberInput value={value} onChange={onChange} integer={integer} min={min} max={max} testId={testId} ariaLabel={label} />;
  return (
    <label className="field" title={title}>
      <span>
        {label}
        {badge}
      </span>
      {unit === undefined ? (
        input
      ) : (
        <span className="num-unit">
          {input}
          {unit ? <span className="muted small">{unit}</span> : null}
        </span>
      )}
    </label>
  );
}

/** What the Auto backend does, said once for the backend selects' tooltip and hint. */
export const AUTO_BACKEND_DETAIL = 'WebGPU on a hardware adapter, else WASM';

/**
 * The Backend field (Auto / WebGPU / WASM) and its note, for every page (the kit's run panels and
 * the workbench's window settings); WebGPU is off when the browser has none. `detailed` explains
 * the chosen Auto or WASM under the select (WASM with its thread count).
 */
export function BackendField({ value, onChange, disabled, testId, detailed = false }: { value: BackendChoice; onChange: (b: BackendChoice) => void; disabled: boolean; testId: string; detailed?: boolean }) {
  const rt = useStore((s) => s.runtime);
  const wasmDetail = detailed && rt ? `CPU, ${rt.threads} thread${rt.threads === 1 ? '' : 's'}` : 'CPU';
  return (
    <>
      <label className="field">
        <span>Backend</span>
        <select value={value} onChange={(e) => onChange(e.target.value as BackendChoice)} disabled={disabled} data-testid={testId}>
          {detailed ? (
            <option value="auto" title={AUTO_BACKEND_DETAIL}>
              Auto
            </option>
          ) : (
            <option value="auto">Auto</option>
          )}
          <option value="webgpu" disabled={rt ? !rt.webgpu.available : false}>
            WebGPU
          </option>
          <option value="wasm" title={wasmDetail}>
            WASM
          </option>
        </select>
        {detailed && value !== 'webgpu' && <span className="field-hint muted small">{value === 'wasm' ? wasmDetail : AUTO_BACKEND_DETAIL}</span>}
      </label>
      <BackendNote value={value} onChange={onChange} disabled={disabled} testId={`${testId}-note`} />
    </>
  );
}

/** The batch status badge of a run panel's title (nothing while idle). */
export function BatchBadge({ status, testId }: { status: string; testId: string }) {
  return status !== 'idle' ? (
    <span className={`badge status-${status}`} data-testid={testId}>
      {status}
    </span>
  ) : null;
}

/**
 * A choice's label as a select shows it: the words before a trailing parenthesis, and the
 * parenthesis as a hint for under the select ("batch quantile (relative to the batch)" ->
 * "batch quantile" + "relative to the batch"), so that the chosen option fits a laptop's side
 * column instead of being cut mid-word (a select cannot show an ellipsis).
 */
export function splitChoice(label: string): { short: string; hint?: string } {
  const m = /^(.+?) \(([^()]+)\)$/.exec(label);
  return m ? { short: m[1], hint: m[2] } : { short: label };
}

/**
 * A cell's text with a line break allowed after each '×' (a shape such as 64×192×192 has none of
 * its own), so that a narrow column wraps it instead of running it under the next one.
 */
export function breakAfterTimes(v: ReactNode): ReactNode {
  if (typeof v !== 'string' || !v.includes('×')) return v;
  const parts = v.split('×');
  return parts.map((part, i) => (i < parts.length - 1 ? <Fragment key={i}>{part}×<wbr /></Fragment> : <Fragment key={i}>{part}</Fragment>));
}

/** A progress bar filled to `fraction` (0..1); `status` is its class (running, done, cancelled, …). */
export function ProgressBar({ fraction, status }: { fraction: number; status: string }) {
  return (
    <div className={`progress ${status}`} role="progressbar" aria-valuemin={0} aria-valuemax={1} aria-valuenow={fraction}>
      <div className="progress-fill" style={{ width: `${(100 * fraction).toFixed(1)}%` }} />
    </div>
  );
}

/** What the finished results ran on (a badge per backend) and why. */
export function BackendsUsed({ backends, reason, testId }: { backends: string[]; reason: ReactNode; testId: string }) {
  if (backends.length === 0) return null;
  return (
    <div className="backend-line">
      {backends.map((b) => (
        <span key={b} className={`badge backend-${b}`} data-testid={testId}>
          {b === 'webgpu' ? 'WebGPU' : 'WASM'}
        </span>
      ))}
      <span className="small muted">{reason}</span>
    </div>
  );
}
