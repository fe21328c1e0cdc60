/*
 * Voxelbench service worker (hand-written, no build step): offline copies and cross-origin isolation.
 *
 * - The app shell (index.html, assets/*, the onnxruntime files under ort/) is cached on install,
 *   found by following the asset names from index.html through the scripts.
 * - Every other same-origin GET (demo models, samples) goes to the network first and is kept in a
 *   runtime cache; when the network fails (offline) the cached copy is served. Navigations match
 *   any query (`?demo=…` links open offline). The page can also ask for URLs it loaded before this
 *   worker controlled it ({ type: 'cache-urls', urls }).
 * - Every response it serves carries COOP same-origin / COEP require-corp / CORP same-origin, so the
 *   page is cross-origin isolated (SharedArrayBuffer, WASM threads) even on static hosts that cannot
 *   send these headers: after the first load (and one reload) the worker supplies them, as the
 *   coi-serviceworker trick does.
 * - URLs from share links (other origins) are not touched here: the page keeps them in
 *   voxelbench-data-v1 (src/ui/share/cache.ts).
 */
const VERSION = 'v1';
const SHELL = `voxelbench-shell-${VERSION}`;
const RUNTIME = `voxelbench-runtime-${VERSION}`;
// onnxruntime-web's runtime files: src/worker/ortFiles.ts (tests/ortFiles.test.ts keeps the two lists equal)
const ORT = ['ort/ort-wasm-simd-threaded.jsep.wasm', 'ort/ort-wasm-simd-threaded.jsep.mjs', 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort-wasm-simd-threaded.mjs'];

const scope = () => self.registration.scope;
const isShell = (url) => url.startsWith(scope() + 'assets/') || url.startsWith(scope() + 'ort/');

function isolated(res) {
  if (!res || res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** index.html, then every hashed asset name found in it and in the scripts and styles it leads to. */
async function precacheShell() {
  const cache = await caches.open(SHELL);
  const seen = new Set();
  const queue = [scope(), ...ORT.map((p) => scope() + p)];
  while (queue.length > 0) {
    const url = queue.shift();
    if (seen.has(url)) continue;
    seen.add(url);
    let res;
    try {
      res = await fetch(url, { cache: 'no-cache' });
    } catch {
      continue;
    }
    if (!res.ok) continue;
    const type = res.headers.get('Content-Type') || '';
    if (url !== scope() && type.includes('text/html')) continue; // an SPA fallback's index.html, not the asset
    if (/text|javascript|json/.test(type)) {
      const text = await res.clone().text();
      // 'assets/x-hash.js' in index.html, './x-hash.js' or 'x-hash.wasm' inside the chunks (relative to them)
      // (index.html names them './assets/x-hash.js'; a reference resolved against the wrong folder
      // would be answered with index.html by hosts with an SPA fallback, and followed again)
      for (const m of text.matchAll(/["'`(]((?:\.\/)?(?:assets\/)?[\w.-]+-[\w-]{8}\.(?:js|mjs|css|wasm))["'`)]/g)) {
        const ref = m[1].replace(/^\.\//, '');
        const next = ref.startsWith('assets/') ? scope() + ref : new URL(ref, url).href;
        if (isShell(next) && !next.slice(scope().length).includes('assets/assets/')) queue.push(next);
      }
    }
    await cache.put(url, res);
  }
}

self.addEventListener('install', (event) => {
  self.skipWaiting();
  event.waitUntil(precacheShell().catch(() => undefined));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if ((name.startsWith('voxelbench-shell-') && name !== SHELL) || (name.startsWith('voxelbench-runtime-') && name !== RUNTIME)) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

/** Pages are kept without their query: `./?demo=motors` is index.html. */
function pageKey(url) {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

async function fromCache(request, navigate) {
  // ignoreVary: a module script asks with an Origin header, the precache fetch did not
  if (navigate) return caches.match(pageKey(request.url), { ignoreVary: true });
  return (await caches.match(request, { ignoreVary: true })) || (await caches.match(request, { ignoreSearch: true, ignoreVary: true }));
}

async function handle(event) {
  const request = event.request;
  const navigate = request.mode === 'navigate';
  if (!navigate && isShell(request.url)) {
    const hit = await caches.match(request, { ignoreVary: true });
    if (hit) return isolated(hit);
  }
  try {
    const res = await fetch(request);
    if (res.ok && res.status === 200) {
      const copy = res.clone();
      const cacheName = isShell(request.url) || navigate ? SHELL : RUNTIME;
      event.waitUntil(caches.open(cacheName).then((c) => c.put(navigate ? pageKey(request.url) : request, copy)).catch(() => undefined));
    }
    return isolated(res);
  } catch (e) {
    const hit = await fromCache(request, navigate);
    if (hit) return isolated(hit);
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || request.headers.has('range')) return;
  if (!request.url.startsWith(scope())) return; // other origins: the page's own cache handles link URLs
  if (request.url.startsWith(scope() + 'sw.js')) return;
  event.respondWith(handle(event));
});

/** The page names what it loaded before this worker controlled it; answers with how many are cached. */
self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type !== 'cache-urls' || !Array.isArray(data.urls)) return;
  const port = event.ports && event.ports[0];
  event.waitUntil(
    (async () => {
      const shell = await caches.open(SHELL);
      const runtime = await caches.open(RUNTIME);
      let cached = 0;
      let failed = 0;
      for (const url of data.urls) {
        if (typeof url !== 'string' || !url.startsWith(scope()) || url.startsWith(scope() + 'sw.js')) continue;
        const clean = data.pages && data.pages.includes(url) ? pageKey(url) : url.split('#')[0];
        const target = isShell(clean) ? shell : runtime;
        if (await target.match(clean, { ignoreVary: true })) {
          cached++;
          continue;
        }
        try {
          const res = await fetch(clean);
          if (res.ok && res.status === 200) {
            await target.put(clean, res);
            cached++;
          } else failed++;
        } catch {
          failed++;
        }
      }
      if (port) port.postMessage({ type: 'cached', cached, failed });
    })(),
  );
});
