/**
 * public/sw.js is plain JavaScript without a build step, so it lists onnxruntime-web's runtime files
 * again: its list must be the one the build copies and the worker loads (src/worker/ortFiles.ts),
 * or an offline page would miss a runtime file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORT_FILES } from '../src/worker/ortFiles';

describe('onnxruntime-web runtime files', () => {
  it("the service worker precaches exactly the files the build serves under ort/", () => {
    const sw = readFileSync(resolve(import.meta.dirname, '../public/sw.js'), 'utf8');
    const m = /^const ORT = \[(.*)\];$/m.exec(sw);
    expect(m).not.toBeNull();
    const listed = [...m![1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
    expect(listed).toEqual(ORT_FILES.map((f) => `ort/${f}`));
  });
});
