/** Handles for end-to-end tests: `window.__voxelbench = { store, nv }`. */
import type { Niivue } from '@niivue/niivue';
import { useStore } from './store';
import { getNiivue } from './viewer';

export interface VoxelbenchHooks {
  /** The zustand store (call `.getState()`). */
  store: typeof useStore;
  /** The page's Niivue instance. */
  nv: Niivue;
}

declare global {
  interface Window {
    __voxelbench?: VoxelbenchHooks;
  }
}

export function exposeTestHooks(): void {
  window.__voxelbench = { store: useStore, nv: getNiivue() };
}
