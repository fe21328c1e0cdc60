/** Handles for end-to-end tests: `window.__voxelbench = { store, nv, viewer, crashWorker, loseWebGl }`. */
import type { Niivue } from '@niivue/niivue';
import type { CrashMode } from '../worker/protocol';
import { useStore } from './store';
import { getNiivue, viewerIdle, viewerInfo } from './viewer';
import type { WorkerStore } from './kit/store';

export interface VoxelbenchHooks {
  /** The zustand store (call `.getState()`). */
  store: typeof useStore;
  /** The page's Niivue instance. */
  nv: Niivue;
  /**
   * Kills the worker of `store` (the workbench's by default; a kit page's: `window.__voxelbenchEeg.store`)
   * as a crash would (CrashMode), or destroys its WebGPU device ('device'); resolves with
   * Date.now() of the kill (the fault notice's time is compared with it). Throws when the page has no worker.
   */
  crashWorker(how: CrashMode, store?: WorkerStore): Promise<number>;
  /** Loses the Niivue canvas's WebGL context (WEBGL_lose_context); `restore` brings it back after `restoreAfterMs`. */
  loseWebGl(restoreAfterMs?: number): boolean;
  /** The viewer: resolves when every queued load has finished; what it shows. */
  viewer: { idle: typeof viewerIdle; info: typeof viewerInfo };
}

declare global {
  interface Window {
    __voxelbench?: VoxelbenchHooks;
  }
}

export function exposeTestHooks(): void {
  window.__voxelbench = {
    store: useStore,
    nv: getNiivue(),
    viewer: { idle: viewerIdle, info: viewerInfo },
    async crashWorker(how, store = useStore as unknown as WorkerStore) {
      const w = store.getState().worker;
      if (!w) throw new Error('the page has no worker yet');
      return w.crash(how);
    },
    loseWebGl(restoreAfterMs) {
      const gl = getNiivue().gl as WebGL2RenderingContext | null;
      const ext = gl?.getExtension('WEBGL_lose_context');
      if (!ext) return false;
      ext.loseContext();
      if (restoreAfterMs !== undefined) setTimeout(() => ext.restoreContext(), restoreAfterMs);
      return true;
    },
  };
}
