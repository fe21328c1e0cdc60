import { describe, expect, it } from 'vitest';
import { motorsParamSpecs, motorsPreset, type MotorsParams } from '../presets/motors';
import { paramCliOptions, paramsFromCli, paramsFromShareValues, paramsShareSpec, paramsShareValues, parseSessionParams } from './derive';
import { checkParam, getPath, paramDefaults, paramsFromCard, parseParamText, setPath, validateParams, type ParamSpec, type ParamSpecs } from './params';
import { decodeLink, encodeLink } from '../share/query';

const nested: ParamSpecs = [
  { key: 'classes', label: 'classes', type: 'strings', default: ['a', 'b'], minCount: 2 },
  { key: 'occlusion.patch', label: 'occlusion patch', type: 'numbers', default: [64, 64], integer: true, min: 1 },
  { key: 'occlusion.fill', label: 'occlusion fill', type: 'number', default: 0 },
  { key: 'show', label: 'show', type: 'boolean', default: true },
];

describe('parameter specs', () => {
  it('defaults are nested by dotted keys, and paths read and write copies', () => {
    const p = paramDefaults<{ occlusion: { patch: number[]; fill: number } }>(nested);
    expect(p).toEqual({ classes: ['a', 'b'], occlusion: { patch: [64, 64], fill: 0 }, show: true });
    const q = setPath(p, 'occlusion.fill', 2);
    expect(getPath(q, 'occlusion.fill')).toBe(2);
    expect(p.occlusion.fill).toBe(0);
  });

  it('validation messages name the value and the rule', () => {
    expect(validateParams(motorsParamSpecs, motorsPreset)).toEqual([]);
    expect(validateParams(motorsParamSpecs, { ...motorsPreset, swBatch: 0, overlap: [1, 0, 0], weightFloor: 0 })).toEqual([
      'overlap must be 3 values in [0, 1), got 1, 0, 0',
      'sw batch must be a positive integer, got 0',
      'weight floor must be in (0, 1], got 0',
    ]);
    expect(checkParam(motorsParamSpecs.find((s) => s.key === 'tta')!, ['flipQ'])).toBe('unknown TTA flipQ; known: identity, flipD, flipH, flipW');
  });

  it('text parsing broadcasts per-axis values, accepts negatives and refuses what breaks a rule', () => {
    const overlap = motorsParamSpecs.find((s) => s.key === 'overlap')!;
    expect(parseParamText(overlap, '0.5')).toEqual([0.5, 0.5, 0.5]);
    const roi: ParamSpec = { key: 'roi', label: 'roi', type: 'numbers', default: [-1, -1, -1], integer: true };
    expect(parseParamText(roi, '-1,-1,-1')).toEqual([-1, -1, -1]);
    expect(() => parseParamText(overlap, '1')).toThrow('overlap must be 3 values in [0, 1), got 1, 1, 1');
    expect(() => parseParamText(roi, '1,x,2')).toThrow('roi: expected a number, got "1,x,2"');
  });

  it('model cards: paths in order, scalars broadcast, wrong forms named', () => {
    const p = paramsFromCard<MotorsParams>(motorsParamSpecs, { preprocessing: { resize: { to: [64, 192, 192] } }, inference: { overlap: 0.5 } }, motorsPreset);
    expect(p.inputSize).toEqual([64, 192, 192]);
    expect(p.overlap).toEqual([0.5, 0.5, 0.5]);
    expect(() => paramsFromCard(motorsParamSpecs, { inference: { roi: [1, 2] } }, motorsPreset)).toThrow('model card: inference.roi: roi must be 3 positive integers, got 1, 2');
  });

  it('links: values round-trip through the query with the specs as defaults and rules', () => {
    const p: MotorsParams = { ...motorsPreset, quantile: 0.3, tta: ['identity'], distanceThresholdAngstrom: 900 };
    const spec = paramsShareSpec(motorsParamSpecs, motorsPreset);
    const q = encodeLink({ demo: 'motors', models: [], data: [], values: paramsShareValues(motorsParamSpecs, p) }, spec.defaults);
    expect(q).toBe('?v=1&demo=motors&tta=identity&quantile=0.3&distance=900');
    const d = decodeLink(q, () => spec);
    expect(d.problems).toEqual([]);
    const back = paramsFromShareValues(motorsParamSpecs, d.state.values, motorsPreset);
    expect(back.params).toEqual(p);
    expect(paramsFromShareValues(motorsParamSpecs, { weightFloor: 0 }, motorsPreset).problems).toEqual(['weightFloor: weight floor must be in (0, 1], got 0; the current value is kept.']);
  });

  it('CLI flags from the specs, booleans with --no-', () => {
    expect(Object.keys(paramCliOptions(nested))).toEqual(['classes', 'occlusion-patch', 'occlusion-fill', 'show', 'no-show']);
    const p = paramsFromCli(nested, { 'occlusion-patch': '32,32', 'no-show': true }, paramDefaults(nested));
    expect(p).toEqual({ classes: ['a', 'b'], occlusion: { patch: [32, 32], fill: 0 }, show: false });
    expect(() => paramsFromCli(motorsParamSpecs, { 'sw-batch': '0' }, motorsPreset)).toThrow('--sw-batch: sw batch must be a positive integer, got 0');
  });

  it('sessions: the schema keeps what the specs know and names what is wrong', () => {
    expect(parseSessionParams(motorsParamSpecs, { ...motorsPreset, extra: 1 })).toEqual(motorsPreset);
    expect(() => parseSessionParams(motorsParamSpecs, { ...motorsPreset, roi: 'abc' })).toThrow('params.roi: roi must be 3 positive integers, got abc');
    expect(() => parseSessionParams(nested, { classes: ['a', 'b'], occlusion: 5, show: true })).toThrow(/params\.occlusion/);
  });
});

describe('every registered preset', () => {
  it('declares each link key and CLI flag once, and none is a reserved link key', async () => {
    const { PRESET_DEFS } = await import('../presets/index');
    const { RESERVED_KEYS } = await import('../share/query');
    const { linkKey, cliFlag } = await import('./params');
    for (const [id, p] of Object.entries(PRESET_DEFS)) {
      const links = p!.params.map(linkKey).filter((k): k is string => k !== null);
      const flags = p!.params.map(cliFlag).filter((k): k is string => k !== null);
      expect(links.filter((k) => (RESERVED_KEYS as readonly string[]).includes(k)), `${id} link keys`).toEqual([]);
      expect(new Set(links).size, `${id} link keys are unique`).toBe(links.length);
      expect(new Set(flags).size, `${id} CLI flags are unique`).toBe(flags.length);
    }
  });
});

describe('sessions saved before a value existed', () => {
  it('take the missing values from the defaults, and still refuse wrong ones', () => {
    const { inputScaling: _dropped, ...old } = { ...motorsPreset, inputScaling: 'div255' } as MotorsParams & { inputScaling: string };
    void _dropped;
    expect(parseSessionParams<MotorsParams>(motorsParamSpecs, old, 'params', motorsPreset)).toEqual(motorsPreset);
    expect(() => parseSessionParams(motorsParamSpecs, { ...old, roi: 'abc' }, 'params', motorsPreset)).toThrow('params.roi');
  });
});
