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
