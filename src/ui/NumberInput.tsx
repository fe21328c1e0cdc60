import { useState, type KeyboardEvent } from 'react';
import { fmtValue } from './format';

interface Props {
  value: number;
  onChange: (v: number) => void;
  min?: number;
  max?: number;
  /** Round to an integer. */
  integer?: boolean;
  title?: string;
  className?: string;
  disabled?: boolean;
  testId?: string;
  ariaLabel?: string;
}

/** A number field that commits on Enter or blur, so half-typed text ("-", "0.") never reaches the store. */
export function NumberInput({ value, onChange, min, max, integer, title, className, disabled, testId, ariaLabel }: Props) {
  const shown = Number.isFinite(value) ? (integer ? String(value) : fmtValue(value)) : '';
  const [text, setText] = useState(shown);
  const [prevShown, setPrevShown] = useState(shown);
  if (prevShown !== shown) {
    // the value changed from outside: show it
    setPrevShown(shown);
    setText(shown);
  }

  const commit = () => {
    const t = text.trim();
    let v = Number(t);
    if (t === '' || !Number.isFinite(v)) {
      setText(shown);
      return;
    }
    if (integer) v = Math.round(v);
    if (min !== undefined) v = Math.max(min, v);
    if (max !== undefined) v = Math.min(max, v);
    setText(integer ? String(v) : fmtValue(v));
    if (v !== value) onChange(v);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') commit();
    if (e.key === 'Escape') {
      setText(shown);
      e.stopPropagation();
    }
  };
  return (
    <input
      type="text"
      inputMode="decimal"
      className={`num ${className ?? ''}`}
      value={text}
      title={title}
      disabled={disabled}
      data-testid={testId}
      aria-label={ariaLabel ?? title}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={onKey}
    />
  );
}
