/**
 * Class probabilities as horizontal bars, one row per class: the bar and its value, each model's
 * (fold's) value as a dot when there are several, the labels' target as a red tick, the chosen
 * class (whose CAM is shown) outlined; clicking a row chooses its class.
 */
import './view2d.css';

export interface ClassBarsProps {
  classes: readonly string[];
  values: ArrayLike<number>;
  /** Each model's values, shown as dots (only with two or more). */
  folds?: readonly { name: string; values: ArrayLike<number> }[];
  /** The labels' value per class (vote shares), shown as a tick. */
  target?: readonly number[] | null;
  selected: number;
  onPick(k: number): void;
  testId: string;
  /** Test id of a class's row and of its value. */
  rowTestId(k: number, name: string): string;
  valueTestId?(k: number): string;
  digits: number;
  /** The bar's colour of a class (default: blue, the chosen one orange). */
  colour?(k: number): string;
  /** What a row's tooltip adds ('show its CAM'). */
  pickHint: string;
}

const TRACK_W = 100;
const TRACK_H = 12;

export function ClassBars({ classes, values, folds = [], target, selected, onPick, testId, rowTestId, valueTestId, digits, colour, pickHint }: ClassBarsProps) {
  const many = folds.length > 1;
  return (
    <div className="class-bars" data-testid={testId}>
      {classes.map((c, k) => {
        const p = values[k] ?? 0;
        const tip = `${c}: ${p.toFixed(4)}${many ? ` (mean of ${folds.length})${folds.map((f) => `\n${f.name}: ${(f.values[k] ?? 0).toFixed(4)}`).join('')}` : ''}${target ? `\nlabels: ${target[k].toFixed(4)}` : ''}\n(${pickHint})`;
        return (
          <button key={k} className={`class-bar ${k === selected ? 'on' : ''}`} onClick={() => onPick(k)} title={tip} data-testid={rowTestId(k, c)}>
            <span className="class-bar-label ellipsis" title={c}>
              {c}
            </span>
            <svg className="class-bar-track" viewBox={`0 0 ${TRACK_W} ${TRACK_H}`} preserveAspectRatio="none" aria-hidden>
              <rect x={0} y={2} width={TRACK_W * Math.min(1, Math.max(0, p))} height={TRACK_H - 4} fill={colour ? colour(k) : k === selected ? '#f0a030' : '#4c8ed9'} />
              {many &&
                folds.map((f, i) => (
                  <circle key={i} cx={TRACK_W * Math.min(1, Math.max(0, f.values[k] ?? 0))} cy={TRACK_H / 2} r={2.2} fill="#fff" stroke="#000" strokeWidth={0.6} vectorEffect="non-scaling-stroke" />
                ))}
              {target && <line x1={TRACK_W * target[k]} x2={TRACK_W * target[k]} y1={0} y2={TRACK_H} stroke="#e04040" strokeWidth={2} vectorEffect="non-scaling-stroke" />}
            </svg>
            <span className="class-bar-value mono" data-testid={valueTestId?.(k)}>
              {p.toFixed(digits)}
            </span>
          </button>
        );
      })}
    </div>
  );
}
