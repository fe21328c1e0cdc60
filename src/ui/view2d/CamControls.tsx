/**
 * The CAM controls of a 2D view: show it, which class, its opacity, and (optionally) its colour
 * bar; what the map is called ('CAM', 'occlusion') follows where it came from.
 */
import type { ReactNode } from 'react';
import { ColourBar } from '../kit/ColourBar';
import { rampGradient, type Rgb } from './colour';
import './view2d.css';

export interface CamControlsProps {
  show: boolean;
  onShow(on: boolean): void;
  /** 'CAM' or 'occlusion'. */
  label: string;
  /** The class options' texts, in class order (their values are the indices). */
  options: readonly string[];
  cls: number;
  onClass(k: number): void;
  opacity: number;
  onOpacity(v: number): void;
  ids: { show: string; cls: string; opacity: string };
  /** The CAM's ramp: its 0..1 colour bar (ColourBar) after the controls. */
  ramp?: readonly Rgb[];
  children?: ReactNode;
}

export function CamControls({ show, onShow, label, options, cls, onClass, opacity, onOpacity, ids, ramp, children }: CamControlsProps) {
  return (
    <div className="cam-controls">
      <label className="cam-control">
        <input type="checkbox" checked={show} onChange={(e) => onShow(e.target.checked)} data-testid={ids.show} />
        <span>{label}</span>
      </label>
      <select value={cls} onChange={(e) => onClass(Number(e.target.value))} data-testid={ids.cls} aria-label={`${label} class`}>
        {options.map((o, k) => (
          <option key={k} value={k}>
            {o}
          </option>
        ))}
      </select>
      <label className="cam-control" title={`${label} opacity`}>
        <span className="muted">opacity</span>
        <input type="range" min={0} max={1} step={0.05} value={opacity} onChange={(e) => onOpacity(Number(e.target.value))} data-testid={ids.opacity} aria-label={`${label} opacity`} />
      </label>
      {ramp && (
        <ColourBar
          gradient={rampGradient(ramp)}
          min={0}
          max={1}
          label={`${label}, ${options[cls] ?? ''}`}
          units={label === 'occlusion' ? 'probability drop when masked ÷ its max (not a probability)' : 'relu ÷ the class map max (0 none … 1 strongest; not a probability)'}
          format={(v) => v.toFixed(0)}
          testId={`${ids.show}-colourbar`}
        />
      )}
      {children}
    </div>
  );
}
