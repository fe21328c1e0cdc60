/** Session checks that run before a page changes (src/ui/kit/session.ts viewProblems). */
import { describe, expect, it } from 'vitest';
import { viewProblems } from '../src/ui/kit/session';

describe('viewProblems', () => {
  const page = { opacity: 0.6, colormap: 'warm', show: true, channels: { red: { min: 0, max: 1 } }, window: [0, 1], cell: null as string | null, base: NaN };

  it('a saved view of the same kinds passes (nulls for NaN or empty values too)', () => {
    expect(viewProblems({ opacity: 0.2, colormap: 'hot', show: false, channels: { red: { min: 2, max: 3 } }, window: [1, 2], cell: 'c1', base: null }, page)).toEqual([]);
    // keys the page does not have are the caller's to drop
    expect(viewProblems({ extra: { a: 1 } }, page)).toEqual([]);
  });

  it('names every value of another kind by its path', () => {
    expect(viewProblems({ opacity: 'x', show: 1, channels: { red: { min: '0' } }, window: [0, 'a'], colormap: ['warm'] }, page)).toEqual([
      'view.opacity: expected number, got string',
      'view.show: expected boolean, got number',
      'view.channels.red.min: expected number, got string',
      'view.window.1: expected number, got string',
      'view.colormap: expected string, got list',
    ]);
    expect(viewProblems('abc', page)).toEqual(['view: expected object, got string']);
  });
});

describe('sessionValues', async () => {
  const { sessionValues } = await import('../src/ui/share/sessionFile');
  const spec = { defaults: { opacity: 0.6, roi: [96, 96, 96], mode: 'gaussian', show: true }, fields: { opacity: { min: 0, max: 1 }, roi: { integer: true, min: 1 }, mode: { choices: ['gaussian', 'constant'] } } };

  it('keeps values of the right kind within their rules and leaves out unknown keys', () => {
    expect(sessionValues({ opacity: 0.4, roi: [8, 8, 8], mode: 'constant', show: false, newer: 1 }, spec, 's.vbsession')).toEqual({ opacity: 0.4, roi: [8, 8, 8], mode: 'constant', show: false });
  });

  it('refuses wrong kinds and values outside the rules, naming them', () => {
    expect(() => sessionValues({ opacity: 'x' }, spec, 's.vbsession')).toThrow('s.vbsession: session.json has values this page cannot take (values.opacity: expected number, got string)');
    expect(() => sessionValues({ roi: 'abc' }, spec, 's')).toThrow('values.roi: expected a list, got string');
    expect(() => sessionValues({ roi: [8, 8] }, spec, 's')).toThrow(/values\.roi: expected 3/);
    expect(() => sessionValues({ opacity: 2 }, spec, 's')).toThrow(/values\.opacity/);
    // choices (class names…) may be the session's own: the page checks them as it applies them
    expect(sessionValues({ mode: 'fast' }, spec, 's')).toEqual({ mode: 'fast' });
    expect(() => sessionValues({ show: { a: 1 } }, spec, 's')).toThrow('values.show: expected boolean, got object');
  });
});

describe('saved results and rows against the preset schemas (session.result / session.row)', async () => {
  const { sessionValueProblems } = await import('../src/core/preset/derive');
  const { PRESET_DEFS } = await import('../src/core/presets');
  const motors = PRESET_DEFS.motors!;
  const eeg = PRESET_DEFS.eeg!;
  const spine = PRESET_DEFS.spine!;
  // as JSON gives them back: NaN and -Infinity become null
  const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  const motorsRow: import('../src/core/presets/motors').MotorsRow = {
    id: 'tomo_1',
    heatmapShape: [4, 8, 8],
    score: 0.9,
    point: [10, 20, 30],
    peaks: [{ score: 0.9, point: [10, 20, 30], index: [1, 2, 3] }],
    originalShape: [16, 32, 32],
    inputShape: [16, 32, 32],
    timings: { totalMs: 5, predictMs: 4, resizeMs: 1, windows: 2 },
    passes: true,
    cutoff: -Infinity,
    passingPeaks: [{ score: 0.9, point: [10, 20, 30] }],
  };
  const motorsResult: import('../src/core/motors/pipeline').MotorDetection = { ...motorsRow, heatmap: new Float32Array(256) };
  const eegRow: import('../src/core/presets/eeg').EegRow = {
    eegId: '1',
    name: '1.parquet',
    rows: 300,
    window: { start: 0, rows: 300 },
    probabilities: [0.1, 0.2, 0.3, 0.2, 0.1, 0.1],
    top: 'LPD',
    folds: [{ model: 'm.onnx', logits: [0, 1, 2, 1, 0, 0], probabilities: [0.1, 0.2, 0.3, 0.2, 0.1, 0.1], classMaps: false }],
    camSource: null,
    warnings: [],
  };
  const vertebra = { name: 'C1', present: true, voxels: 10, volumeMl: 0.1, sliceRange: [1, 4] as [number, number], meanProb: NaN, fracture: 0.2 };
  const spineRow: import('../src/core/presets/spine').SpineRow = {
    id: 's1',
    source: 's1',
    kind: 'dicom',
    studyUid: '1.2',
    seriesUid: '1.2.3',
    description: 'CT',
    seriesIndex: 0,
    shape: [4, 8, 8],
    spacing: [1, 1, 1],
    order: 'position',
    warnings: [],
    vertebrae: [vertebra],
    patientOverall: 0.3,
    patientSource: 'product',
    timings: { preprocessMs: 1, segMs: 2, clsMs: 3 },
  };

  it('results and rows as the presets make them pass, after a JSON round trip too', () => {
    expect(sessionValueProblems(motors.session.row, motorsRow, 'row')).toEqual([]);
    expect(sessionValueProblems(motors.session.row, json(motorsRow), 'row')).toEqual([]);
    expect(sessionValueProblems(motors.session.result, { ...json(motorsRow), heatmap: new Float32Array(4) }, 'result')).toEqual([]);
    expect(sessionValueProblems(motors.session.result, motorsResult, 'result')).toEqual([]);
    expect(sessionValueProblems(eeg.session.row, json(eegRow), 'row')).toEqual([]);
    expect(sessionValueProblems(spine.session.row, json(spineRow), 'row')).toEqual([]);
    // nothing saved: nothing to check
    expect(sessionValueProblems(motors.session.result, undefined, 'result')).toEqual([]);
  });

  it('a value of the wrong kind is named by its path', () => {
    expect(sessionValueProblems(motors.session.row, { ...motorsRow, score: '0.9' }, 'items.0.row')).toEqual(['items.0.row.score: expected a number']);
    expect(sessionValueProblems(eeg.session.row, { ...eegRow, probabilities: [{ p: 0.1 }, { p: 0.9 }] }, 'row')).toEqual(['row.probabilities.0: expected a number', 'row.probabilities.1: expected a number']);
    expect(sessionValueProblems(spine.session.row, { ...spineRow, vertebrae: [{ ...vertebra, fracture: { p: 0.2 } }] }, 'row')).toEqual(['row.vertebrae.0.fracture: expected a number']);
    // a heatmap of another dtype, or missing
    expect(sessionValueProblems(motors.session.result, { ...motorsResult, heatmap: new Uint8Array(4) }, 'result')).toEqual(['result.heatmap: expected a Float32Array']);
    expect(sessionValueProblems(motors.session.result, { ...motorsRow }, 'result')).toEqual(['result.heatmap: expected a Float32Array']);
    const p = sessionValueProblems(eeg.session.result, { ...eegRow, cam: 'x' }, 'result');
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toMatch(/^result\.cam: /m);
  });

  it('every preset declares its schemas', () => {
    for (const [id, p] of Object.entries(PRESET_DEFS)) {
      expect(p!.session.result, id).toBeDefined();
      expect(sessionValueProblems(p!.session.row, 'abc', 'row').length, id).toBeGreaterThan(0);
    }
  });
});

describe('facts, meta and edits against their schemas (openKitSession refuses the session whole)', async () => {
  const { inputFactsSchema } = await import('../src/core/preset/expects');
  const { sessionValueProblems } = await import('../src/core/preset/derive');
  const { openKitSession, packTensors } = await import('../src/ui/kit/session');
  const { spineStore } = await import('../src/ui/spine/page');
  const { eegStore } = await import('../src/ui/eeg/page');
  const { motorsStore } = await import('../src/ui/motors/page');
  const { brainStore } = await import('../src/ui/brain/page');
  const { proteinStore } = await import('../src/ui/protein/page');
  type AnyStore = import('../src/ui/kit/types').AnyStore;
  const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  // no model in these sessions: the worker is never asked for anything, and a stub stands in for it
  for (const s of [spineStore, eegStore] as AnyStore[]) s.setState({ worker: { api: {} } as never });

  const facts: import('../src/core/preset/expects').InputFacts = { modality: 'CT', intensity: [-1000, 1200], intensityUnit: 'HU', spacing: [0.625, 0.3, 0.3], spacingUnit: 'mm', orientation: 'axial', shape: [4, 2, 1], slices: 4 };
  const seriesMeta: import('../src/ui/spine/page').SeriesMeta = { kind: 'dicom', studyUid: '1.2', seriesUid: '1.2.3', description: 'CT', shape: [4, 2, 1], spacing: [0.625, 0.3, 0.3], order: 'position' };
  const spineResult = { labels: new Uint8Array(8).fill(1), vertebrae: [], timings: { preprocessMs: 1, segMs: 2, clsMs: 3 } };

  /** A session of `store`'s page with one item (`item` added to it), as saveKitSession writes it. */
  function session(store: AnyStore, item: Record<string, unknown>, files = new Map<string, Uint8Array>()): { raw: Record<string, unknown>; files: Map<string, Uint8Array> } {
    const s = store.getState();
    const raw = {
      kit: 1,
      models: [],
      items: [{ id: 's1', source: null, origin: 'dropped', sourceLabel: 'NIfTI file', status: 'waiting', warnings: [], ...item }],
      params: s.params,
      defaults: s.defaults,
      paramsFrom: 'preset',
      labels: null,
      cards: [],
      backend: 'wasm',
      batch: { status: 'idle', ids: [], startedAt: 0, elapsedMs: 0, etaMs: 0 },
      selected: 's1',
      view: s.view,
    };
    return { raw: json(raw), files };
  }
  /** A spine item with a result (its typed arrays as entries) and `edits`. */
  function spineItem(edits: unknown): { raw: Record<string, unknown>; files: Map<string, Uint8Array> } {
    const files = new Map<string, Uint8Array>();
    const item = { status: 'done', meta: seriesMeta, facts, result: packTensors(spineResult, 'results/0', files), ...(edits !== undefined ? { edits: packTensors(edits, 'edits/0', files) } : {}) };
    return session(spineStore as AnyStore, item, files);
  }
  /** Opening throws matching `message`, and the page's state is as it was. */
  async function refused(store: AnyStore, s: { raw: unknown; files: Map<string, Uint8Array> }, message: RegExp): Promise<void> {
    const before = store.getState();
    await expect(openKitSession(store, s.raw, s.files, 'bad.vbsession')).rejects.toThrow(message);
    expect(store.getState()).toBe(before);
  }

  it('facts as the presets make them pass, after a JSON round trip (NaN written as null) too', () => {
    expect(sessionValueProblems(inputFactsSchema, facts, 'facts')).toEqual([]);
    expect(sessionValueProblems(inputFactsSchema, json({ ...facts, intensity: [NaN, 3] }), 'facts')).toEqual([]);
    expect(sessionValueProblems(inputFactsSchema, {}, 'facts')).toEqual([]);
  });

  it('facts with a spacing that is text are refused, naming the item and the path', async () => {
    expect(sessionValueProblems(inputFactsSchema, { ...facts, spacing: '0.6' }, 'facts')).toEqual([expect.stringMatching(/^facts\.spacing: /)]);
    expect(sessionValueProblems(inputFactsSchema, { ...facts, intensity: [0, '1'] }, 'facts')).toEqual(['facts.intensity.1: expected a number']);
    await refused(spineStore as AnyStore, session(spineStore as AnyStore, { meta: seriesMeta, facts: { ...facts, spacing: '0.6' } }), /bad\.vbsession: .*state\.items\.0\.facts\.spacing \(s1\): /);
    await refused(eegStore as AnyStore, session(eegStore as AnyStore, { facts: { shape: 400 } }), /state\.items\.0\.facts\.shape \(s1\): /);
  });

  it('every page declares its meta schema; a meta as the page makes it passes, one of the wrong shape is refused', async () => {
    const ok: [AnyStore, unknown][] = [
      [spineStore as AnyStore, seriesMeta],
      [eegStore as AnyStore, { name: '1.parquet', rows: 300, timeType: 'int64', nanCount: 0 } satisfies import('../src/ui/eeg/page').EegMeta],
      [motorsStore as AnyStore, { shape: [4, 8, 8], spacing: 13.1 } satisfies import('../src/ui/motors/page').TomoMeta],
      [brainStore as AnyStore, { shape: [8, 8, 8], spacing: [1, 1, 1] } satisfies import('../src/ui/brain/page').BrainMeta],
      [proteinStore as AnyStore, { width: 64, height: 64, bits: 8, mask: true, cellsName: 'cells.png' } satisfies import('../src/ui/protein/page').FovMeta],
    ];
    for (const [store, meta] of ok) {
      expect(sessionValueProblems(store.config.metaSchema, json(meta), 'meta'), store.config.key).toEqual([]);
      expect(sessionValueProblems(store.config.metaSchema, 'abc', 'meta').length, store.config.key).toBeGreaterThan(0);
    }
    expect(sessionValueProblems(motorsStore.config.metaSchema, { shape: [4, 8] }, 'meta')).toEqual([expect.stringMatching(/^meta\.shape/)]);
    // eeg: rows as text, a missing name
    await refused(eegStore as AnyStore, session(eegStore as AnyStore, { meta: { rows: '300', timeType: 'int64', nanCount: 0 } }), /items\.0\(s1\)\.meta\.name: .*items\.0\(s1\)\.meta\.rows: expected a number/);
    await refused(spineStore as AnyStore, session(spineStore as AnyStore, { meta: { ...seriesMeta, shape: { d: 4 } } }), /items\.0\(s1\)\.meta\.shape: /);
  });

  it('spine edits: a changed count that is text, masks of another length or dtype are refused; edits of the right kind open', async () => {
    await refused(spineStore as AnyStore, spineItem({ labels: new Uint8Array(8), changed: '3' }), /items\.0\(s1\)\.edits\.changed: /);
    await refused(spineStore as AnyStore, spineItem({ labels: new Uint8Array(5), changed: 3 }), /items\.0\(s1\)\.edits\.labels: expected 8 labels \(the series' masks\), got 5/);
    await refused(spineStore as AnyStore, spineItem({ labels: new Float32Array(8), changed: 3 }), /items\.0\(s1\)\.edits\.labels: expected a Uint8Array/);
    await refused(spineStore as AnyStore, spineItem([1, 2]), /items\.0\(s1\)\.edits: /);
    // a page that keeps no edits refuses them
    await refused(eegStore as AnyStore, session(eegStore as AnyStore, { edits: { changed: 1 } }), /items\.0\(s1\)\.edits: this page keeps no edits/);

    const good = spineItem({ labels: new Uint8Array([0, 1, 2, 3, 1, 1, 1, 1]), changed: 3 });
    const apply = await openKitSession(spineStore as AnyStore, good.raw, good.files, 'good.vbsession');
    apply();
    const t = spineStore.getState().items[0];
    expect(t.meta).toEqual(seriesMeta);
    expect(t.facts).toEqual(facts);
    expect(t.edits).toEqual({ labels: new Uint8Array([0, 1, 2, 3, 1, 1, 1, 1]), changed: 3 });
    expect(t.result?.labels).toEqual(spineResult.labels);
  });
});
