/** Handles for end-to-end tests: `window.__voxelbench = { store, nv, viewer }`. */
import type { Niivue } from '@niivue/niivue';
import { useStore } from './store';
import { getNiivue, viewerIdle, viewerInfo } from './viewer';

export interface VoxelbenchHooks {
  /** The zustand store (call `.getState()`). */
  store: typeof useStore;
  /** The page's Niivue instance. */
  nv: Niivue;
  /** The viewer: resolves when every queued load has finished; what it shows. */
  viewer: { idle: typeof viewerIdle; info: typeof viewerInfo };
}

declare global {
  interface Window {
    __voxelbench?: VoxelbenchHooks;
  }
}

export function exposeTestHooks(): void {
  window.__voxelbench = { store: useStore, nv: getNiivue(), viewer: { idle: viewerIdle, info: viewerInfo } };
}
