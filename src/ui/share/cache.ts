/**
 * Models and data fetched from URLs (share links, typed URLs) are kept in Cache Storage, which the
 * page, the worker and the service worker (public/sw.js) all read: a link opens again offline.
 * The service worker keeps the app shell and the demo files in caches of its own (same prefix);
 * the size shown and "Clear" cover all of them.
 */
export const CACHE_PREFIX = 'voxelbench-';
/** Bytes fetched for links (the service worker's caches are voxelbench-shell-* and voxelbench-runtime-*). */
export const DATA_CACHE = 'voxelbench-data-v1';

const hasCaches = (): boolean => typeof caches !== 'undefined';

/** An absolute URL (relative ones are relative to the app). */
export const absoluteUrl = (url: string): string => new URL(url, document.baseURI).href;

/** The last path segment of a URL, decoded ('model.onnx'). */
export function urlFileName(url: string): string {
  try {
    const p = new URL(url, 'http://x/').pathname;
    return decodeURIComponent(p.slice(p.lastIndexOf('/') + 1)) || 'download';
  } catch {
    return url;
  }
}

/** The bytes at `url`: from the cache, else fetched and kept. Throws an Error naming the URL. */
export async function fetchUrl(url: string): Promise<Uint8Array> {
  const abs = absoluteUrl(url);
  const cache = hasCaches() ? await caches.open(DATA_CACHE).catch(() => null) : null;
  const hit = await cache?.match(abs);
  if (hit) return new Uint8Array(await hit.arrayBuffer());
  let res: Response;
  try {
    res = await fetch(abs, { mode: 'cors', credentials: 'omit' });
  } catch (e) {
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    throw new Error(`${url}: could not be fetched (${offline ? 'offline, and not in the cache' : `${(e as Error).message}; the server must allow cross-origin requests (CORS)`})`, { cause: e });
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (cache) {
    const headers = new Headers({ 'Content-Type': res.headers.get('Content-Type') ?? 'application/octet-stream', 'Content-Length': String(bytes.byteLength) });
    await cache.put(abs, new Response(bytes.slice(), { headers })).catch(() => undefined);
  }
  return bytes;
}

export interface CacheUsage {
  bytes: number;
  entries: number;
}

/** Bytes kept in all of Voxelbench's caches (link data, app shell, demo files). */
export async function cacheUsage(): Promise<CacheUsage> {
  if (!hasCaches()) return { bytes: 0, entries: 0 };
  let bytes = 0;
  let entries = 0;
  for (const name of await caches.keys()) {
    if (!name.startsWith(CACHE_PREFIX)) continue;
    const c = await caches.open(name);
    for (const req of await c.keys()) {
      const res = await c.match(req);
      if (!res) continue;
      entries++;
      bytes += (await res.blob()).size;
    }
  }
  return { bytes, entries };
}

export async function clearCaches(): Promise<void> {
  if (!hasCaches()) return;
  for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX)) await caches.delete(name);
}
