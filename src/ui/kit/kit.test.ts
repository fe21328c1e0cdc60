/** The kit's pure parts: the run key, a batch's progress and ETA, files sorted by a preset into the page's sources and entries, result arrays in sessions. */
import { describe, expect, it } from 'vitest';
import type { RunProgress } from '../../core/preset/types';
import { motorsParamSpecs, motorsPreset, motorsPresetDef } from '../../core/presets/motors';
import { ItemCache, ReadQueue } from './cache';
import type { PickedFile } from './files';
import { batchClock, batchFraction, entryOf, ETA_START, etaText, itemsToRun, nextEta, runKey, sortPicked, type EtaClock } from './pure';
import { packTensors, unpackTensors } from './session';
import type { ItemEntry } from './types';

const model = (name: string, size = 10, role = 'model') => ({ name, role, bytes: new Uint8Array(size) });

describe('runKey', () => {
  it('changes with the values that change the output, the models and the backend, not with the live values', () => {
    const base = runKey(motorsParamSpecs, motorsPreset, [model('a.onnx')], 'auto');
    // live values (cutoff, quantile, metric): no new run
    for (const patch of [{ quantile: 0.2 }, { cutoff: 'none' }, { beta: 1 }, { distanceThresholdAngstrom: 500 }, { defaultVoxelSpacing: 3 }]) {
      expect(runKey(motorsParamSpecs, { ...motorsPreset, ...patch }, [model('a.onnx')], 'auto')).toBe(base);
    }
    for (const patch of [{ roi: [32, 64, 64] }, { overlap: [0, 0, 0] }, { tta: ['identity'] }, { swBatch: 4 }, { maxPeaks: 3 }, { minPeakDistance: 8 }, { weightFloor: 0.5 }]) {
      expect(runKey(motorsParamSpecs, { ...motorsPreset, ...patch }, [model('a.onnx')], 'auto')).not.toBe(base);
    }
    expect(runKey(motorsParamSpecs, motorsPreset, [model('a.onnx', 11)], 'auto')).not.toBe(base);
    expect(runKey(motorsParamSpecs, motorsPreset, [model('a.onnx'), model('b.onnx')], 'auto')).not.toBe(base);
    expect(runKey(motorsParamSpecs, motorsPreset, [model('a.onnx', 10, 'seg')], 'auto')).not.toBe(base);
    expect(runKey(motorsParamSpecs, motorsPreset, [model('a.onnx')], 'wasm')).not.toBe(base);
  });

  it('picks the stale items, or all readable ones when none is stale', () => {
    const key = 'k';
    const items = [
      { id: 'a', status: 'done' as const, runKey: 'k' },
      { id: 'b', status: 'done' as const, runKey: 'old' },
      { id: 'c', status: 'waiting' as const },
      { id: 'd', status: 'error' as const, loadFailed: true },
      { id: 'e', status: 'error' as const, runKey: 'k' },
    ];
    expect(itemsToRun(items, key)).toEqual(['b', 'c', 'e']);
    expect(itemsToRun([items[0], items[3]], key)).toEqual(['a']);
    expect(itemsToRun([items[3]], key)).toEqual([]);
  });

  it('leaves out the items not chosen to run (a source with several series runs one)', () => {
    const items = [
      { id: 's#1', status: 'done' as const, runKey: 'k' },
      { id: 's#2', status: 'waiting' as const, excluded: true },
      { id: 't', status: 'waiting' as const },
    ];
    expect(itemsToRun(items, 'k')).toEqual(['t']);
    expect(itemsToRun(items.slice(0, 2), 'k')).toEqual(['s#1']);
  });
});

describe('batch progress', () => {
  const items: Pick<ItemEntry, 'id' | 'status' | 'progress'>[] = [
    { id: 'a', status: 'done' },
    { id: 'b', status: 'error' },
    { id: 'c', status: 'running', progress: { done: 3, total: 12, elapsedMs: 0, etaMs: 0 } },
    { id: 'd', status: 'waiting' },
  ];

  it('counts finished and failed items whole and the running one by its windows', () => {
    expect(batchFraction(['a', 'b', 'c', 'd'], items)).toBeCloseTo((1 + 1 + 0.25) / 4, 12);
    expect(batchFraction(['c', 'd'], items)).toBeCloseTo(0.125, 12);
    expect(batchFraction([], items)).toBe(0);
    // an id no longer in the queue counts as nothing done
    expect(batchFraction(['a', 'gone'], items)).toBe(0.5);
  });

  it("takes the running item's fraction from the page when it has its own (spine: weighted stages)", () => {
    const staged = [{ id: 'c', status: 'running' as const, progress: { done: 1, total: 1, elapsedMs: 0, etaMs: 0, fraction: 0.4 } }];
    expect(batchFraction(['c'], staged)).toBe(1);
    expect(batchFraction(['c'], staged, (p) => (p as RunProgress & { fraction: number }).fraction)).toBeCloseTo(0.4, 12);
  });

  it('gives the ETA from the fraction done, and none before anything is done', () => {
    expect(batchClock({ startedAt: 1000 }, 0.25, 5000)).toEqual({ elapsedMs: 4000, etaMs: 12000 });
    expect(batchClock({ startedAt: 1000 }, 0, 5000)).toEqual({ elapsedMs: 4000, etaMs: 0 });
    expect(batchClock({ startedAt: 1000 }, 1, 3000)).toEqual({ elapsedMs: 2000, etaMs: 0 });
  });
});

describe('nextEta', () => {
  /** The clock fed with (elapsed ms, fraction) reports in order; the ETAs it gave. */
  const feed = (reports: [number, number][]): EtaClock[] => {
    const out: EtaClock[] = [];
    let c = ETA_START;
    for (const [t, f] of reports) out.push((c = nextEta(c, f, t)));
    return out;
  };

  it("says 'first window…' while nothing is done, never 0:00", () => {
    const c = feed([
      [500, 0],
      [30_000, 0],
      [300_000, 0],
    ]);
    for (const x of c) expect(x.etaMs).toBeNull();
    expect(etaText(c[2])).toBe('first window…');
    expect(etaText(undefined)).toBe('first window…');
    expect(etaText({ etaMs: 83_000 })).toBe('ETA 1:23');
  });

  it('counts down steadily for a steady run, within 2 % of the true remaining time', () => {
    // 8 windows of 25 s, the clock ticking every 500 ms in between
    const reports: [number, number][] = [];
    for (let t = 500; t <= 200_000; t += 500) reports.push([t, Math.floor(t / 25_000) / 8]);
    const c = feed(reports);
    for (let i = 1; i < c.length; i++) if (c[i - 1].etaMs !== null && c[i].fraction < 1) expect(c[i].etaMs!).toBeLessThanOrEqual(c[i - 1].etaMs!);
    // after the first window, the remaining time (here exact: 175 s at 25 s)
    const at = (t: number) => c[reports.findIndex(([x]) => x === t)].etaMs!;
    expect(at(25_000)).toBeCloseTo(175_000, -2);
    expect(Math.abs(at(100_000) - 100_000)).toBeLessThan(2000);
    expect(Math.abs(at(160_000) - 40_000)).toBeLessThan(2000);
  });

  it('never counts up while progress advances, though the run slows down (2:35 -> 3:00 must not happen)', () => {
    // fast first half (1 % per s), then four times slower
    const reports: [number, number][] = [];
    for (let t = 1000; t <= 50_000; t += 1000) reports.push([t, t / 100_000]);
    for (let t = 51_000; t <= 150_000; t += 1000) reports.push([t, 0.5 + (t - 50_000) / 400_000]);
    const c = feed(reports);
    for (let i = 1; i < c.length; i++) expect(c[i].etaMs!).toBeLessThanOrEqual(c[i - 1].etaMs!);
  });

  it('smooths a jump of the fraction (a stage that counts for much) over seconds, not at once', () => {
    // 10 % per 10 s, then the fraction jumps from 0.3 to 0.7 (a weighted stage ends): the whole run's rate
    // jumps 2.3x; the smoothed one moves by under a fifth of that in the first second
    let c = ETA_START;
    for (let t = 1000; t <= 30_000; t += 1000) c = nextEta(c, t / 100_000, t);
    const before = c;
    const after = nextEta(before, 0.7, 31_000);
    const wholeRate = 0.7 / 31_000;
    expect(after.rate!).toBeGreaterThan(before.rate!);
    expect(after.rate! - before.rate!).toBeLessThan(0.2 * (wholeRate - before.rate!));
    // and the estimate follows the whole run's rate (falling here: little progress after the jump) within a time constant's lag
    let s = after;
    for (let t = 32_000; t <= 60_000; t += 1000) s = nextEta(s, 0.7 + (t - 31_000) / 1e7, t);
    const ratio = s.rate! / (s.fraction / 60_000);
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(1.15);
  });

  it('between reports it counts down with the clock; once spent, the whole run says how long', () => {
    let c = nextEta(ETA_START, 0.5, 10_000);
    expect(c.etaMs).toBeCloseTo(10_000, 6);
    c = nextEta(c, 0.5, 14_000);
    expect(c.etaMs).toBeCloseTo(6000, 6);
    c = nextEta(c, 0.5, 30_000);
    // 20 s past the estimate with no progress: (1 - 0.5) / (0.5 / 30 s) = 30 s
    expect(c.etaMs).toBeCloseTo(30_000, 6);
    expect(nextEta(c, 1, 31_000).etaMs).toBe(0);
  });
});

describe('intake sorting', () => {
  const file = (path: string, origin?: PickedFile['origin']): PickedFile => ({ path, file: { name: path.slice(path.lastIndexOf('/') + 1) } as File, ...(origin ? { origin } : {}) });

  it("sorts files with the preset's rules into sources (with their files), models, cards and labels, and makes queue entries with the files' origin", () => {
    const demo = { demo: 'motors' };
    const files = [
      file('batch/tomo_b/slice_0001.jpg', demo),
      file('batch/tomo_b/slice_0000.jpg', demo),
      file('batch/tomo_a.mrc'),
      file('batch/tomo_b.mrc'),
      file('batch/model.onnx'),
      file('batch/model.json'),
      file('batch/labels.csv'),
      file('batch/README.md'),
    ];
    const s = sortPicked(motorsPresetDef, files, ['batch/empty']);
    expect(s.sources.map((x) => [x.source.id, x.source.kind, x.files.map((f) => f.path)])).toEqual([
      ['empty', 'slices', []],
      ['tomo_a', 'volume', ['batch/tomo_a.mrc']],
      ['tomo_b', 'slices', ['batch/tomo_b/slice_0001.jpg', 'batch/tomo_b/slice_0000.jpg']],
    ]);
    // the File objects themselves come back, not copies
    expect(s.sources[2].files[0]).toBe(files[0]);
    expect(s.models.map((f) => f.path)).toEqual(['batch/model.onnx']);
    expect(s.cards.map((f) => f.path)).toEqual(['batch/model.json']);
    expect(s.labels.map((f) => f.path)).toEqual(['batch/labels.csv']);
    expect(s.ignored).toEqual(['batch/README.md']);
    expect(s.notes).toEqual(['tomo_b: skipped batch/tomo_b.mrc, kept the folder batch/tomo_b/ (2 files) (one source per tomogram id)']);

    const entries = s.sources.map((src) => entryOf(src, 'label'));
    expect(entries.map((e) => [e.id, e.status, e.origin, e.warnings])).toEqual([
      ['empty', 'loading', 'dropped', []],
      ['tomo_a', 'loading', 'dropped', []],
      ['tomo_b', 'loading', demo, []],
    ]);
  });
});

describe('item cache', () => {
  it('keeps the most recently used items within its byte budget (the newest always)', () => {
    const c = new ItemCache<Uint8Array>((x) => x.byteLength, 100);
    c.set('a', new Uint8Array(40));
    c.set('b', new Uint8Array(40));
    expect(c.get('a')?.byteLength).toBe(40); // a is now the most recent
    c.set('c', new Uint8Array(40));
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    c.set('d', new Uint8Array(500));
    expect([c.has('a'), c.has('c'), c.has('d')]).toEqual([false, false, true]);
  });
});

describe('read queue', () => {
  it('reads one source at a time in order; an urgent read of a waiting item starts at once; a failed read does not stop the queue', async () => {
    const q = new ReadQueue<string>();
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const job = (id: string, fail = false) => () =>
      new Promise<string | null>((resolve, reject) => {
        log.push(`start ${id}`);
        gates.set(id, () => (fail ? reject(new Error(`${id} broke`)) : resolve(id)));
      });
    const tick = () => new Promise((r) => setTimeout(r, 0));
    const a = q.enqueue('a', q.nextReadId(), job('a', true), false);
    const b = q.enqueue('b', q.nextReadId(), job('b'), false);
    const c = q.enqueue('c', q.nextReadId(), job('c'), false);
    await tick();
    expect(log).toEqual(['start a']);
    q.pending.get('c')!.start(); // the view needs c now
    await tick();
    expect(log).toEqual(['start a', 'start c']);
    gates.get('c')!();
    expect(await c).toBe('c');
    gates.get('a')!();
    await expect(a).rejects.toThrow('a broke');
    await tick();
    expect(log).toEqual(['start a', 'start c', 'start b']);
    gates.get('b')!();
    expect(await b).toBe('b');
    await tick();
    // c was read already: the queue passes it without starting it again
    expect(log).toEqual(['start a', 'start c', 'start b']);
    expect([...q.pending.keys()]).toEqual([]);
  });
});

describe('session result arrays', () => {
  it('stores every typed array of a result as a zip entry and reads it back as it was', () => {
    const files = new Map<string, Uint8Array>();
    const result = { id: 't', score: 0.5, heatmap: Float32Array.from([1, 2, 3]), peaks: [{ point: [1, 2, 3], mask: Uint8Array.from([7, 8]) }] };
    const packed = JSON.parse(JSON.stringify(packTensors(result, 'results/0', files)));
    expect([...files.keys()].sort()).toEqual(['results/0_heatmap.bin', 'results/0_peaks_0_mask.bin']);
    const back = unpackTensors(packed, files, 'x.vbsession') as typeof result;
    expect(back).toEqual(result);
    expect(back.heatmap).toBeInstanceOf(Float32Array);
    files.delete('results/0_heatmap.bin');
    expect(() => unpackTensors(packed, files, 'x.vbsession')).toThrow(/results\/0_heatmap\.bin is missing/);
  });

  it('writes an array held twice once and gives it back as one array', () => {
    const files = new Map<string, Uint8Array>();
    const labels = Uint8Array.from([0, 1, 2, 1]);
    const result = { labels, conformedLabels: labels, other: Uint8Array.from([0, 1, 2, 1]) };
    const packed = JSON.parse(JSON.stringify(packTensors(result, 'results/0', files)));
    expect([...files.keys()].sort()).toEqual(['results/0_labels.bin', 'results/0_other.bin']);
    const back = unpackTensors(packed, files, 'x.vbsession') as typeof result;
    expect(back).toEqual(result);
    expect(back.conformedLabels).toBe(back.labels);
    expect(back.other).not.toBe(back.labels);
  });
});
