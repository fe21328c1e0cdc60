/** Shared helpers for the volume reader/writer tests in src/core/io. Test-only (uses node:fs). */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { InputError, type Volume, dtypeOf } from '../../src/core/volume';

const FIXTURES = new URL('../fixtures/io/', import.meta.url);

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)));
}

export interface Reference {
  file: string;
  format: 'nifti' | 'mrc';
  shape: number[];
  dtype: string;
  affine: number[][];
  spacing: number[];
  unit: string;
  sum: number;
  min: number;
  max: number;
  samples: { index: number[]; value: number }[];
  expected_npy?: string;
}

/** tests/fixtures/io/reference.json, written by tools/make_io_fixtures.py from nibabel and mrcfile. */
export function references(): Reference[] {
  return JSON.parse(new TextDecoder().decode(fixture('reference.json'))).files as Reference[];
}

/** Flat C-order offset of an index into a shape. */
export function offsetOf(shape: number[], index: number[]): number {
  return index.reduce((acc, i, k) => acc * shape[k] + i, 0);
}

/** Element-wise closeness: exact for integer arrays, relative `tol` for floats. */
export function expectArrayClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 0): void {
  expect(actual.length).toBe(expected.length);
  let at = -1;
  for (let i = 0; i < actual.length && at < 0; i++) {
    const e = expected[i];
    const err = Math.abs(actual[i] - e) / Math.max(1, Math.abs(e));
    if (!(err <= tol) && !(Number.isNaN(actual[i]) && Number.isNaN(e))) at = i;
  }
  expect(at, `first mismatch at ${at}: ${actual[at]} vs ${expected[at]}`).toBe(-1);
}

export function expectAffineClose(actual: number[][], expected: number[][], tol = 1e-6): void {
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      expect(Math.abs(actual[r][c] - expected[r][c]), `affine[${r}][${c}] ${actual[r][c]} vs ${expected[r][c]}`).toBeLessThanOrEqual(
        tol * Math.max(1, Math.abs(expected[r][c])),
      );
    }
  }
}

/** Same shape, dtype, voxels, spacing and affine (to float32 precision where the format stores float32). */
export function expectSameVolume(actual: Volume, expected: Volume, tol = 1e-6): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(dtypeOf(actual.data)).toBe(dtypeOf(expected.data));
  expectArrayClose(actual.data, expected.data);
  expectArrayClose(actual.spacing, expected.spacing, tol);
  expectAffineClose(actual.affine, expected.affine, tol);
}

/** Runs fn and checks that it throws an InputError whose message names the file (and matches `pattern`). */
export function expectInputError(fn: () => unknown, name: string, pattern?: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected an InputError for ${name}`).toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.message).toContain(name);
  if (pattern) expect(err.message).toMatch(pattern);
  return err;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Debian's python with the given modules, for cross-checks against nibabel/mrcfile; null when missing. */
export function python(modules: string[]): string | null {
  const exe = '/usr/bin/python3';
  const r = spawnSync(exe, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  return r.status === 0 ? exe : null;
}

/** Runs a python script with arguments and parses the JSON it prints. */
export function runPython(exe: string, script: string, args: string[]): unknown {
  const r = spawnSync(exe, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
