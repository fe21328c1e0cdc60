/**
 * The one colour bar of every continuous overlay (motors and workbench heatmaps, EEG and protein
 * CAMs, the EEG power): what the values are, said plainly (logits, probabilities, a CAM scaled
 * to its maximum), the range the colours span, and the units. Label overlays get legends (the
 * colours by name), not a bar.
 */
import { fmtValue } from '../format';
import './kit.css';

export interface ColourBarProps {
  /** The bar's CSS background, low values on the left: rampGradient(…) or niivueGradient(…). */
  gradient: string;
  /** The values at the bar's ends. */
  min: number;
  max: number;
  /** What the colours show, plainly: 'heatmap: sum of 2 models' sigmoid (probabilities)'. */
  label: string;
  /** The values' units or scale, after the range ('Hz', 'probability', 'logit'). */
  units?: string;
  /** One more line for the tooltip ('below the floor: transparent'). */
  note?: string;
  /** How a value reads (default fmtValue). */
  format?(v: number): string;
  testId?: string;
}

export function ColourBar({ gradient, min, max, label, units, note, format = fmtValue, testId }: ColourBarProps) {
  const lo = format(min);
  const hi = format(max);
  const title = `${label}: ${lo} (left) … ${hi} (right)${units ? ` ${units}` : ''}${note ? `; ${note}` : ''}`;
  return (
    <span className="colour-bar" data-testid={testId} data-min={min} data-max={max} title={title}>
      <span className="colour-bar-label">{label}</span>
      <span className="colour-bar-tick">{lo}</span>
      <span className="colour-bar-ramp" style={{ background: gradient }} aria-hidden />
      <span className="colour-bar-tick">{hi}</span>
      {units && <span className="colour-bar-units">{units}</span>}
    </span>
  );
}
