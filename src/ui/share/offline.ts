/**
 * Registers the service worker (public/sw.js) in the built app and tells it what the page loaded
 * before it took control (the first visit), so that the app and the demo files are all cached
 * and a link opens again offline. See the README section "Static hosting".
 */
import { createStore } from 'zustand/vanilla';
import { ORT_FILES } from '../../worker/ortFiles';

/** What the service worker cannot see the page load: everything fetched before it controlled the page. */
function loadedUrls(): { urls: string[]; pages: string[] } {
  const origin = window.location.origin;
  const entries = performance.getEntriesByType('resource').map((e) => e.name);
  const page = window.location.href.split('?')[0].split('#')[0];
  const ort = ORT_FILES.map((f) => new URL(`ort/${f}`, document.baseURI).href);
  const urls = [...new Set([page, ...ort, ...entries])].filter((u) => u.startsWith(origin) && !u.includes('/sw.js'));
  return { urls, pages: [page] };
}

/** The service worker's registration (null until registerServiceWorker, and where there is none). */
const worker = createStore<{ registration: Promise<ServiceWorkerRegistration | null> | null }>()(() => ({ registration: null }));

export function registerServiceWorker(): void {
  if (worker.getState().registration || !('serviceWorker' in navigator) || !import.meta.env.PROD) return;
  // the first visit may load hundreds of slices: keep their timing entries for the list above
  performance.setResourceTimingBufferSize(10_000);
  worker.setState({ registration: navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' }).catch(() => null) });
  navigator.serviceWorker.addEventListener('controllerchange', () => void cacheLoaded());
}

/**
 * Asks the service worker to keep everything the page has loaded so far; resolves with how many
 * URLs are cached (0 when there is no service worker, e.g. in development or when blocked).
 */
export async function cacheLoaded(timeoutMs = 60_000): Promise<{ cached: number; failed: number }> {
  const pending = worker.getState().registration;
  const reg = pending ? await pending : null;
  if (!reg) return { cached: 0, failed: 0 };
  const { urls, pages } = loadedUrls();
  // a worker still installing (it caches the app first) is waited for; one that never activates has cached nothing
  const ready = await Promise.race([navigator.serviceWorker.ready, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs))]);
  const sw = ready?.active;
  if (!sw) return { cached: 0, failed: urls.length };
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => resolve({ cached: 0, failed: urls.length }), timeoutMs);
    ch.port1.onmessage = (e: MessageEvent<{ cached: number; failed: number }>) => {
      clearTimeout(timer);
      resolve(e.data);
    };
    sw.postMessage({ type: 'cache-urls', urls, pages }, [ch.port2]);
  });
}

/** True when a service worker answers this page's requests. */
export const offlineReady = (): boolean => 'serviceWorker' in navigator && navigator.serviceWorker.controller !== null;
