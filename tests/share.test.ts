/** Share links (versioned query, round trip, defaults left out, bad values named) and the session file format. */
import { describe, expect, it } from 'vitest';
import { strToU8, zipSync } from 'fflate';
import { COMPACT_LIMIT, decodeLink, encodeLink, LINK_VERSION, parseValue, type ShareSpec } from '../src/core/share/query';
import { readSession, readTensor, SESSION_FORMAT, tensorEntry, writeSession } from '../src/core/share/session';
import { motorsPreset } from '../src/core/presets/motors';

const spec: ShareSpec = {
  defaults: {
    roi: [96, 96, 96],
    overlap: [0.25, 0.25, 0.25],
    mode: 'gaussian',
    sigma: 0.125,
    relax: false,
    tta: ['identity', 'flipD'],
    slice: 'multiplanar',
    window: [],
    xyz: [0.5, 0.5, 0.5],
    zoom: 1,
  },
  fields: {
    roi: { integer: true, min: 1 },
    mode: { choices: ['gaussian', 'constant'] },
    tta: { choices: ['identity', 'flipD', 'flipH', 'flipW'], anyLength: true },
    slice: { choices: ['axial', 'coronal', 'sagittal', 'multiplanar'] },
    window: { anyLength: true },
    xyz: { min: 0, max: 1 },
    zoom: { min: 0.01 },
  },
};
const specFor = () => spec;

describe('share links', () => {
  it('writes a readable, versioned query and leaves the defaults out', () => {
    const q = encodeLink({ demo: 'motors', models: [], data: [], values: { ...spec.defaults, mode: 'constant', roi: [64, 128, 128], xyz: [0.25, 0.5, 0.75] } }, spec.defaults);
    expect(q).toBe('?v=1&demo=motors&roi=64,128,128&mode=constant&xyz=0.25,0.5,0.75');
  });

  it('round-trips every kind of value, URLs and the preset', () => {
    const values = { roi: [32, 64, 64], overlap: [0.5, 0, 0.875], mode: 'constant', sigma: 0.3333333333333333, relax: true, tta: ['flipW'], slice: 'axial', window: [-1000, 2500.5], xyz: [0.1, 0.2, 0.3], zoom: 2.5 };
    const state = {
      preset: 'workbench',
      models: ['https://example.org/a%20b/model.onnx?x=1&y=2', 'models/second.onnx'],
      data: ['https://data.example.org/t1.nii.gz'],
      labels: 'https://example.org/card.json',
      values,
    };
    const q = encodeLink(state, spec.defaults);
    const d = decodeLink(q, specFor);
    expect(d.problems).toEqual([]);
    expect(d.version).toBe(LINK_VERSION);
    expect(d.state).toEqual(state);
  });

  it('an empty list that differs from its default is written and read back', () => {
    const q = encodeLink({ preset: 'motors', models: [], data: [], values: { tta: [] } }, spec.defaults);
    expect(q).toBe('?v=1&preset=motors&tta=');
    expect(decodeLink(q, specFor).state.values.tta).toEqual([]);
  });

  it('bad and unknown values are dropped with a message naming them; the rest applies', () => {
    const d = decodeLink('?v=1&demo=brain&roi=64,abc,64&mode=fancy&zoom=-2&colour=red&relax=maybe&tta=identity,flipX&xyz=0.5,0.5&slice=axial', specFor);
    expect(d.state.values).toEqual({ slice: 'axial' });
    const text = d.problems.join('\n');
    expect(text).toContain('roi: expected a number, got "abc"');
    expect(text).toContain('mode: "fancy" is not one of gaussian, constant');
    expect(text).toContain('zoom: -2 is below the minimum 0.01');
    expect(text).toContain('Unknown setting "colour"');
    expect(text).toContain('relax: expected 1 or 0, got "maybe"');
    expect(text).toContain('tta: "flipX" is not one of');
    expect(text).toContain('xyz: expected 3 comma-separated values, got "0.5,0.5"');
    expect(d.problems).toHaveLength(7);
  });

  it('a link from a newer version, an unknown demo and a non-http URL are reported', () => {
    const newer = decodeLink('?v=7&demo=brain&zoom=2', specFor);
    expect(newer.problems[0]).toMatch(/newer Voxelbench \(link version 7\)/);
    expect(newer.state.values.zoom).toBe(2);
    const unknown = decodeLink('?v=1&demo=nope&zoom=2', () => null);
    expect(unknown.problems).toEqual(['There is no demo "nope" in this version of Voxelbench.']);
    const js = decodeLink('?v=1&preset=workbench&model=javascript:alert(1)&data=../secret', specFor);
    expect(js.state.models).toEqual([]);
    expect(js.state.data).toEqual([]);
    expect(js.problems).toHaveLength(2);
  });

  it('links without v (older ?demo= links) read as version 1', () => {
    const d = decodeLink('?demo=motors', specFor);
    expect(d.version).toBe(1);
    expect(d.problems).toEqual([]);
    expect(d.state.demo).toBe('motors');
  });

  it('long states are written compactly (z=) and read back the same', () => {
    const models = Array.from({ length: 40 }, (_, i) => `https://models.example.org/fold_${i}/weights_with_a_long_name_${i}.onnx`);
    const state = { preset: 'motors', models, data: ['https://example.org/tomo.mrc'], values: { roi: [16, 32, 32], tta: ['identity', 'flipH', 'flipW'] } };
    const q = encodeLink(state, spec.defaults);
    expect(q.startsWith('?v=1&z=')).toBe(true);
    expect(q.length).toBeLessThan(COMPACT_LIMIT);
    expect(encodeLink(state, spec.defaults, { compact: false }).length).toBeGreaterThan(COMPACT_LIMIT);
    const d = decodeLink(q, specFor);
    expect(d.problems).toEqual([]);
    expect(d.state).toEqual(state);
    const cut = decodeLink(q.slice(0, 40), specFor);
    expect(cut.problems[0]).toMatch(/compact part of the link is damaged/);
  });

  it('the motors preset values survive a round trip exactly', () => {
    const defaults = { quantile: motorsPreset.quantile, overlap: [...motorsPreset.overlap], weightFloor: motorsPreset.weightFloor };
    const values = { quantile: 0.6180339887498949, overlap: [0.5, 0.125, 0.1], weightFloor: 1e-7 };
    const q = encodeLink({ demo: 'motors', models: [], data: [], values }, defaults);
    expect(q).toBe('?v=1&demo=motors&quantile=0.6180339887498949&overlap=0.5,0.125,0.1&weightFloor=1e-7');
    expect(decodeLink(q, () => ({ defaults })).state.values).toEqual(values);
  });

  it('parseValue checks whole numbers and list lengths', () => {
    expect(() => parseValue('roi', '64.5,64,64', [1, 1, 1], { integer: true })).toThrow('roi: expected a whole number, got "64.5"');
    expect(parseValue('w', '', [], { anyLength: true })).toEqual([]);
    expect(parseValue('show', 'true', false)).toBe(true);
  });
});

describe('session files', () => {
  const heatmap = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e-3);
  const make = () => {
    const files = new Map<string, Uint8Array>();
    files.set('models/model.onnx', Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
    const ref = tensorEntry('results/0_heatmap.f32', heatmap, files);
    return { files, ref };
  };

  it('writes a zip with session.json and the bytes, and reads back exactly', () => {
    const { files, ref } = make();
    const bytes = writeSession({ preset: 'motors', state: { heatmap: ref, params: motorsPreset }, files, link: 'http://x/?v=1&demo=motors' }, '2026-01-02T03:04:05.000Z');
    expect(bytes[0]).toBe(0x50); // 'PK'
    const s = readSession(bytes, 'a.vbsession');
    expect(s.manifest.format).toBe(SESSION_FORMAT);
    expect(s.manifest.version).toBe(1);
    expect(s.preset).toBe('motors');
    expect(s.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(s.link).toBe('http://x/?v=1&demo=motors');
    expect(s.manifest.files).toEqual([
      { path: 'models/model.onnx', bytes: 5000 },
      { path: 'results/0_heatmap.f32', bytes: 4000 },
    ]);
    expect(s.files.get('models/model.onnx')).toEqual(files.get('models/model.onnx'));
    const state = s.state as { heatmap: typeof ref; params: typeof motorsPreset };
    expect(state.params).toEqual(motorsPreset);
    const back = readTensor(state.heatmap, s.files);
    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back)).toEqual(Array.from(heatmap));
    // the same content gives the same bytes (fixed time stamp)
    expect(writeSession({ preset: 'motors', state: { heatmap: ref, params: motorsPreset }, files, link: 'http://x/?v=1&demo=motors' }, '2026-01-02T03:04:05.000Z')).toEqual(bytes);
  });

  it('names what is wrong with a file that is no session, damaged or from a newer version', () => {
    expect(() => readSession(strToU8('hello'), 'notes.txt')).toThrow(/^notes\.txt: not a Voxelbench session \(not a zip file/);
    expect(() => readSession(zipSync({ 'a.txt': strToU8('x') }), 'x.zip')).toThrow('x.zip: not a Voxelbench session (no session.json inside)');
    expect(() => readSession(zipSync({ 'session.json': strToU8('{"format":"other"}') }), 'o.zip')).toThrow('o.zip: not a Voxelbench session (format "other")');
    expect(() => readSession(zipSync({ 'session.json': strToU8('{oops') }), 'j.zip')).toThrow(/^j\.zip: session\.json is not valid JSON/);
    const newer = JSON.stringify({ format: SESSION_FORMAT, version: 9, preset: 'motors', state: {}, files: [] });
    expect(() => readSession(zipSync({ 'session.json': strToU8(newer) }), 'n.zip')).toThrow('n.zip: session version 9 was written by a newer Voxelbench; this one reads version 1');
    const missing = JSON.stringify({ format: SESSION_FORMAT, version: 1, preset: 'motors', state: {}, files: [{ path: 'models/m.onnx', bytes: 3 }] });
    expect(() => readSession(zipSync({ 'session.json': strToU8(missing) }), 'm.zip')).toThrow('m.zip: models/m.onnx is missing from the session file');
    const short = JSON.stringify({ format: SESSION_FORMAT, version: 1, preset: 'motors', state: {}, files: [{ path: 'm', bytes: 3 }] });
    expect(() => readSession(zipSync({ 'session.json': strToU8(short), m: new Uint8Array(2) }), 's.zip')).toThrow('s.zip: m has 2 bytes, session.json says 3');
    const { files, ref } = make();
    expect(() => readTensor({ ...ref, length: 999 }, files, 't.zip')).toThrow('t.zip: results/0_heatmap.f32 has 4000 bytes, expected 999 × 4');
  });
});
