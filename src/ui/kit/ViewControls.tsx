/**
 * The small controls of a page's view, the same on every page: the slice layout buttons, a
 * checkbox that shows an overlay, a slider (opacity, a floor), the empty view's invitation with
 * its demo button, and what the view says of an item it cannot show yet (its error, or that it is
 * being read).
 */
import type { ReactNode, Ref } from 'react';
import { useKit } from './hooks';
import type { AnyStore, ItemEntry } from './types';

/** The slice layout: one button per layout (`${testId}-<id>`), the current one on. */
export function SliceButtons<T extends string>({ slices, value, onPick, testId }: { slices: Readonly<Partial<Record<T, string>>>; value: T; onPick(id: T): void; testId: string }) {
  return (
    <div className="seg" role="group" aria-label="Slice layout">
      {(Object.keys(slices) as T[]).map((id) => (
        <button key={id} className={value === id ? 'on' : ''} onClick={() => onPick(id)} data-testid={`${testId}-${id}`}>
          {slices[id]}
        </button>
      ))}
    </div>
  );
}

/** A checkbox of the toolbar (show an overlay). */
export function ViewToggle({ label, title, checked, onChange, testId }: { label: string; title: string; checked: boolean; onChange(on: boolean): void; testId: string }) {
  return (
    <label className="toolbar-group" title={title}>
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
      <span>{label}</span>
    </label>
  );
}

export interface ViewRangeProps {
  /** Before the slider, muted ('opacity'). */
  label: string;
  title: string;
  min: number;
  max: number;
  step: number;
  value: number;
  onChange(v: number): void;
  ariaLabel: string;
  testId?: string;
  disabled?: boolean;
  /** The value after the slider, with this many digits (and its test id). */
  shown?: { digits: number; testId?: string };
}

/** A slider of the toolbar (opacity, a floor). */
export function ViewRange({ label, title, min, max, step, value, onChange, ariaLabel, testId, disabled, shown }: ViewRangeProps) {
  return (
    <label className="toolbar-group" title={title}>
      <span className="muted">{label}</span>
      <input type="range" min={min} max={max} step={step} value={value} disabled={disabled} onChange={(e) => onChange(Number(e.target.value))} data-testid={testId} aria-label={ariaLabel} />
      {shown && (
        <span className="slider-val" data-testid={shown.testId}>
          {value.toFixed(shown.digits)}
        </span>
      )}
    </label>
  );
}

export interface EmptyHeroProps {
  store: AnyStore;
  /** 'canvas-note hero' over the viewer's canvas, 'kit-hero' in a 2D view. */
  className: string;
  title: string;
  /** What to drop. */
  children: ReactNode;
  openDemo(): Promise<void>;
  /** The demo button's words and test id. */
  demo: string;
  testId: string;
}

/** The empty view: what the page does, what to drop, and the demo. */
export function EmptyHero({ store, className, title, children, openDemo, demo, testId }: EmptyHeroProps) {
  const busy = useKit(store, (s) => s.busy);
  return (
    <div className={className}>
      <div className="canvas-note-title">{title}</div>
      <div>{children}</div>
      <button className="primary big" onClick={() => void openDemo()} disabled={busy !== null} data-testid={testId}>
        {busy ?? demo}
      </button>
    </div>
  );
}

/** In place of an item the view cannot show yet: its error, that it is being read, or (no item) `empty`. */
export function NotShown({ entry, errorClassName, empty }: { entry: ItemEntry | null | undefined; errorClassName: string; empty: ReactNode }) {
  if (entry?.error) return <span className={errorClassName}>{entry.error}</span>;
  return <>{entry ? `Reading ${entry.id}…` : empty}</>;
}

/** The viewer's canvas (`niivue-canvas`) and what is said over it: the viewer's error, else the empty view's invitation and the page's notes. */
export function ViewerCanvas({ canvasRef, viewError, empty, children }: { canvasRef: Ref<HTMLCanvasElement>; viewError: string | null; empty: ReactNode; children?: ReactNode }) {
  return (
    <div className="canvas-wrap">
      <canvas ref={canvasRef} data-testid="niivue-canvas" />
      {viewError ? (
        <div className="canvas-note error">{viewError}</div>
      ) : (
        <>
          {empty}
          {children}
        </>
      )}
    </div>
  );
}
