/** The Content-Security-Policy is the same in every place it is set (vite.config.ts says where). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSP, CSP_HEADER } from '../vite.config';

const ROOT = resolve(import.meta.dirname, '..');
const read = (p: string): string => readFileSync(resolve(ROOT, p), 'utf8');

/** A policy as directive -> sorted sources. */
function directives(policy: string): Record<string, string[]> {
  return Object.fromEntries(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0] !== '')
      .map(([name, ...src]) => [name, src.sort()]),
  );
}

describe('Content-Security-Policy', () => {
  it('allows scripts, workers and WASM from the app only, and fetches from other sites over https only', () => {
    const d = directives(CSP);
    expect(d['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(d['worker-src']).toEqual(["'self'"]);
    expect(d['default-src']).toEqual(["'self'"]);
    expect(d['connect-src']).toEqual(["'self'", 'https:']);
    expect(d['object-src']).toEqual(["'none'"]);
    for (const v of Object.values(d)) expect(v).not.toContain("'unsafe-eval'");
    expect(d['script-src']).not.toContain("'unsafe-inline'");
    expect(directives(CSP_HEADER)).toEqual({ ...d, 'frame-ancestors': ["'self'"] });
  });

  it('HTML entry points carry it as a meta tag', () => {
    for (const p of ['index.html', 'e2e/harness.html']) {
      const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(read(p));
      expect(m?.[1], p).toBe(CSP);
    }
  });

  it('every deploy header file sends it with frame-ancestors', () => {
    const nginx = [...read('deploy/nginx.conf').matchAll(/add_header Content-Security-Policy "([^"]+)" always;/g)].map((m) => m[1]);
    expect(nginx).toEqual([CSP_HEADER, CSP_HEADER]); // the app and sw.js (a nested location drops the outer add_header lines)
    expect(/Header always set Content-Security-Policy "([^"]+)"/.exec(read('deploy/apache.htaccess'))?.[1]).toBe(CSP_HEADER);
    expect(/^ {2}Content-Security-Policy: (.+)$/m.exec(read('public/_headers'))?.[1]).toBe(CSP_HEADER);
    const vercel = JSON.parse(read('deploy/vercel.json')) as { headers: { source: string; headers: { key: string; value: string }[] }[] };
    expect(vercel.headers.find((h) => h.source === '/(.*)')?.headers.find((h) => h.key === 'Content-Security-Policy')?.value).toBe(CSP_HEADER);
  });
});
