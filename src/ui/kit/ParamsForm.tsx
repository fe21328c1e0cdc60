/**
 * The parameters form of a preset page, generated from `preset.params`: one section per group,
 * each value with its label, unit and help (tooltip); per-axis numbers with their axis labels;
 * choices as a select (one) or checkboxes (several); advanced values folded under "more"; live
 * values (applied without running again) marked; Reset to the card's (or the preset's) values;
 * the problems `validatePreset` finds listed under it.
 *
 * Test ids: `${prefix}-${id}` per value, where id is kebab(key) unless `ids` names it; per axis
 * `-${axis}` (lower case), per choice `-${choice}`; and `${prefix}s-from`, `${prefix}s-reset`,
 * `${prefix}-problems` (prefix 'param': 'param-roi-z', 'params-reset', 'param-problems').
 */
import { useMemo, useState, type ReactNode } from 'react';
import { validatePreset } from '../../core/preset/index';
import { formatParam, getPath, kebab, parseParamText, setPath, type ChoicesSpec, type NumbersSpec, type ParamSpec, type ParamValue } from '../../core/preset/params';
import { NumField, splitChoice } from '../common';
import { NumberInput } from '../NumberInput';
import { Panel } from '../Panel';
import { useKit } from './hooks';
import type { AnyStore } from './types';
import './kit.css';

export interface ParamsFormProps {
  store: AnyStore;
  title: string;
  /** Test id prefix of the values ('param'). */
  prefix: string;
  /** Test ids (after the prefix) of values whose id is not kebab(key), e.g. { inputSize: 'input' }. */
  ids?: Readonly<Record<string, string>>;
  /** The panel's test id. */
  testId?: string;
  /** Shown after a value's field, by key (a summary of what the values give…). */
  after?: Readonly<Record<string, ReactNode>>;
  /** What the defaults are when they are the preset's own (default: the preset's source). */
  presetDefaultsText?: string;
}

/** Bounds an input may clamp to (inclusive ones only: an exclusive bound is left to the validation message). */
function clampOf(s: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }): { min?: number; max?: number } {
  return { min: s.minExclusive ? undefined : s.min, max: s.maxExclusive ? undefined : s.max };
}

export function ParamsForm({ store, title, prefix, ids = {}, testId, after = {}, presetDefaultsText }: ParamsFormProps) {
  const preset = store.preset;
  const p = useKit(store, (s) => s.params);
  const defaults = useKit(store, (s) => s.defaults);
  const from = useKit(store, (s) => s.paramsFrom);
  const running = useKit(store, (s) => s.batch.status === 'running');
  const problems = useMemo(() => validatePreset(preset, p), [preset, p]);
  const changed = JSON.stringify(p) !== JSON.stringify(defaults);
  const set = (key: string, v: ParamValue) => store.setState((s) => ({ params: setPath(s.params, key, v) }));
  const idOf = (s: ParamSpec) => `${prefix}-${ids[s.key] ?? kebab(s.key)}`;
  const groups = useMemo(() => {
    const out = new Map<string, ParamSpec[]>();
    for (const s of preset.params) out.set(s.group ?? '', [...(out.get(s.group ?? '') ?? []), s]);
    return [...out];
  }, [preset]);
  // a live value is marked on its own unless its whole group is live (then the group's heading is)
  const field = (s: ParamSpec, groupLive: boolean) => (
    <div key={s.key} className="form-item">
      <ParamField spec={{ ...s, live: s.live && !groupLive }} value={getPath(p, s.key) as ParamValue} id={idOf(s)} onChange={(v) => set(s.key, v)} />
      {after[s.key]}
    </div>
  );
  return (
    <Panel
      title={title}
      testId={testId}
      extra={
        <button className="link" onClick={() => store.setState({ params: defaults })} disabled={!changed || running} data-testid={`${prefix}s-reset`} title={`Back to the values of ${from === 'preset' ? 'the preset' : from}`}>
          reset
        </button>
      }
    >
      <div className="muted small params-from" data-testid={`${prefix}s-from`}>
        defaults: {from === 'preset' ? (presetDefaultsText ?? preset.info.source) : `model card ${from}`}
      </div>
      <fieldset disabled={running} className="form">
        {groups.map(([group, specs]) => {
          const allLive = specs.every((s) => s.live);
          const main = specs.filter((s) => !s.advanced);
          const more = specs.filter((s) => s.advanced);
          return (
            <div key={group} className="form-group form" data-testid={`${prefix}-group-${kebab(group || 'values')}`}>
              {group && (
                <div className="subhead">
                  {group}
                  {allLive && <LiveMark />}
                </div>
              )}
              {main.map((s) => field(s, allLive))}
              {more.length > 0 && (
                <details className="form-more">
                  <summary>more ({more.map((s) => s.label).join(', ')})</summary>
                  <div className="form">{more.map((s) => field(s, allLive))}</div>
                </details>
              )}
            </div>
          );
        })}
      </fieldset>
      {problems.length > 0 && (
        <div className="run-error" data-testid={`${prefix}-problems`}>
          {problems.map((x) => (
            <div key={x}>{x}</div>
          ))}
        </div>
      )}
    </Panel>
  );
}

function LiveMark() {
  return (
    <span className="live-mark" title="Applied to the results at once, without running again">
      live
    </span>
  );
}

/** A value's label with its live mark (when its group is not all live). */
function Label({ spec }: { spec: ParamSpec }) {
  return (
    <>
      {spec.label}
      {spec.live && <> <LiveMark /></>}
    </>
  );
}

function ParamField({ spec: s, value, id, onChange }: { spec: ParamSpec; value: ParamValue; id: string; onChange: (v: ParamValue) => void }) {
  switch (s.type) {
    case 'number':
      return (
        <NumField
          label={s.label}
          badge={s.live ? <> <LiveMark /></> : undefined}
          title={s.help}
          value={value as number}
          integer={s.integer}
          {...clampOf(s)}
          onChange={onChange}
          testId={id}
          unit={s.unit ?? ''}
        />
      );
    case 'numbers':
      return s.axes ? <AxesField spec={s} value={value as number[]} id={id} onChange={onChange} /> : <TextListField spec={s} value={value} id={id} onChange={onChange} />;
    case 'choice': {
      const hint = splitChoice(s.choiceLabels?.[value as string] ?? String(value)).hint;
      return (
        <label className="field stack" title={s.help}>
          <span>
            <Label spec={s} />
          </span>
          <select value={value as string} onChange={(e) => onChange(e.target.value)} data-testid={id} aria-label={s.label}>
            {s.choices.map((c) => (
              <option key={c} value={c} title={s.choiceLabels?.[c]}>
                {splitChoice(s.choiceLabels?.[c] ?? c).short}
              </option>
            ))}
          </select>
          {hint && <span className="field-hint muted small">{hint}</span>}
        </label>
      );
    }
    case 'choices':
      return <ChoicesField spec={s} value={value as string[]} id={id} onChange={onChange} />;
    case 'boolean':
      return (
        <label className="field" title={s.help}>
          <span>
            <Label spec={s} />
          </span>
          <input type="checkbox" checked={value as boolean} onChange={(e) => onChange(e.target.checked)} data-testid={id} aria-label={s.label} />
        </label>
      );
    case 'text':
    case 'strings':
      return <TextListField spec={s} value={value} id={id} onChange={onChange} />;
  }
}

/** Numbers per axis (Z, Y, X…), each with its axis label. */
function AxesField({ spec: s, value, id, onChange }: { spec: NumbersSpec; value: number[]; id: string; onChange: (v: number[]) => void }) {
  const axes = s.axes ?? [];
  return (
    <div className="field stack" title={s.help}>
      <span>
        <Label spec={s} /> {s.unit && <span className="muted small">{s.unit}</span>}
      </span>
      <span className={`triple ${axes.length > 3 ? 'many' : ''}`}>
        {axes.map((a, i) => (
          <span key={a} className="axis">
            <span className="axis-label">{a}</span>
            <NumberInput
              value={value[i]}
              integer={s.integer}
              {...clampOf(s)}
              onChange={(v) => {
                const next = [...value];
                next[i] = v;
                onChange(next);
              }}
              testId={`${id}-${a.toLowerCase()}`}
              ariaLabel={`${s.label} ${a}`}
            />
          </span>
        ))}
      </span>
    </div>
  );
}

/** Several of a fixed set, as checkboxes. */
function ChoicesField({ spec: s, value, id, onChange }: { spec: ChoicesSpec; value: string[]; id: string; onChange: (v: string[]) => void }) {
  const toggle = (c: string, on: boolean) => onChange(s.choices.filter((x) => (x === c ? on : value.includes(x))));
  return (
    <div className="field" title={s.help}>
      <span>
        <Label spec={s} />
      </span>
      <span className="choice-boxes">
        {s.choices.map((c) => (
          <label key={c} className="choice-box">
            <input type="checkbox" checked={value.includes(c)} onChange={(e) => toggle(c, e.target.checked)} data-testid={`${id}-${c}`} />
            {s.choiceLabels?.[c] ?? c}
          </label>
        ))}
      </span>
    </div>
  );
}

/** Text, or a comma-separated list, committed on Enter or blur; a value the spec does not take is named and not kept. */
function TextListField({ spec: s, value, id, onChange }: { spec: ParamSpec; value: ParamValue; id: string; onChange: (v: ParamValue) => void }) {
  // a list of names (class names, label names) shows whole, wrapped in a box that grows with it; other text is one line
  const list = s.type === 'strings';
  const shown = list ? (value as string[]).join(', ') : formatParam(value);
  const [text, setText] = useState(shown);
  const [prev, setPrev] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  if (prev !== shown) {
    setPrev(shown);
    setText(shown);
  }
  const commit = () => {
    try {
      const v = parseParamText(s, text);
      setError(null);
      if (formatParam(v) !== formatParam(value)) onChange(v);
      else setText(shown);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const common = {
    className: `field-text ${list ? 'field-list' : ''} ${error ? 'invalid' : ''}`,
    value: text,
    onBlur: commit,
    'data-testid': id,
    'aria-label': s.label,
    'aria-invalid': error !== null,
  };
  return list ? (
    <label className="field stack" title={error ?? s.help}>
      <span>
        <Label spec={s} /> <span className="muted small">comma-separated</span>
      </span>
      <textarea
        {...common}
        rows={2}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          // Enter applies the list (a name has no line breaks); Ctrl+Enter still runs
          if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
            e.preventDefault();
            commit();
          }
        }}
      />
    </label>
  ) : (
    <label className="field" title={error ?? s.help}>
      <span>
        <Label spec={s} />
      </span>
      <input type="text" {...common} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && commit()} />
    </label>
  );
}
