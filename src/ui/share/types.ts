/**
 * Sharing: links, session files, the gallery and the offline cache, for every page in the
 * registry (src/ui/presets.ts). Each preset plugs in with an optional `share` entry on its
 * PresetEntry (a `PresetShare`, below); the generic code (src/ui/share/*) iterates the registry,
 * so a preset that fills in these hooks gets "Copy link", "Save session", "Open session", the
 * gallery card and offline links with no other change. The workbench (src/ui/share/workbench.ts)
 * is one example; pages built on the preset kit get theirs from `presetShare` (src/ui/kit/share.ts,
 * used by the motors page in src/ui/motors/page.ts).
 *
 * How a link is opened (src/ui/share/link.ts, openLink):
 *   1. decodeLink (src/core/share/query.ts) reads `?v=1&demo=…|preset=…&model=…&data=…&labels=…&<values>`
 *      with `spec()` (defaults give the types; values equal to them are never written);
 *   2. a demo link calls `demo.open({ run: false })`; a URL link calls `load(urls, fetchUrl)`
 *      (fetchUrl keeps the bytes in Cache Storage, so the link reopens offline);
 *   3. `apply(values)` sets the preset's values (before the run);
 *   4. `run()` runs what needs running and resolves when the result is in the store;
 *      then `applyView(values)` sets the view values (slice, opacity, class, window…);
 *   5. the scene values (crosshair `xyz`, `zoom`, `pan`; src/ui/share/scene.ts) go to Niivue
 *      once the view has settled (presets with no Niivue view can leave `scene` false).
 * "Copy link" does the reverse: `sources()` (say which inputs came from a demo, which from URLs
 * and which are local files: those make a link impossible and the page offers a session file),
 * then `values()` plus the scene values, encoded against `spec().defaults`.
 *
 * A demo's `open` must record that what it loads comes from the demo (so that `sources()` says
 * `demo` and the link is `?demo=<name>`): wrap it as openBrainDemo does (kit pages mark the demo's
 * files with their origin, src/ui/kit/demo.ts). For a page with a store like the kit's, `storeShare()` (./storeShare.ts) derives link-only hooks (demo
 * links with every preset value, the backend, the selection and the view) from its store alone.
 *
 * Session files (src/core/share/session.ts): `saveSession()` returns the preset's JSON state and
 * the bytes it needs (models, inputs, result arrays through tensorEntry); `openSession()` checks
 * everything first and returns what puts it all back, without running (the result arrays are shown as saved). `runCount()` lets
 * tests check that opening a session ran nothing.
 */
import type { ShareSpec, ShareValues } from '../../core/share/query';

/** Where the current inputs came from. */
export interface ShareSources {
  /** All inputs are the named bundled demo's (a `?demo=` link). */
  demo?: string;
  models: string[];
  data: string[];
  labels?: string;
  /** Names of inputs opened from this computer (they cannot go into a link). */
  local: string[];
  /** Nothing loaded yet. */
  empty: boolean;
}

export interface LinkUrls {
  models: string[];
  data: string[];
  labels?: string;
}

/** Fetches a URL's bytes through the Cache Storage cache (src/ui/share/cache.ts). */
export type FetchUrl = (url: string) => Promise<Uint8Array>;

export interface SessionSave<S = unknown> {
  state: S;
  files: Map<string, Uint8Array>;
}

export interface PresetShare {
  /** Defaults and rules of the values `values()` returns (view values included, scene values not). */
  spec(): ShareSpec;
  /** The current values (all of them; the encoder leaves out the defaults). */
  values(): ShareValues;
  sources(): ShareSources;
  /** Opens the link's URLs (models, data, labels) without running; false when something failed (it said why). */
  load(urls: LinkUrls, fetchUrl: FetchUrl): Promise<boolean>;
  /** Applies decoded values (only those the link had) before the run; returns problems to show. */
  apply(values: ShareValues): Promise<string[]>;
  /** Applies the view values after the run (a first result may pick its own view); optional. */
  applyView?(values: ShareValues): void;
  /** Runs and resolves when the result is shown in the store (or the run failed and said why). */
  run(): Promise<void>;
  /**
   * Resolves when the page has started showing what is selected (e.g. the selected tomogram is
   * decoded and handed to the viewer); the scene is applied after it. Optional.
   */
  viewReady?(): Promise<void>;
  /** The page shows a Niivue view whose crosshair and zoom go into links (default true). */
  scene?: boolean;
  /** Runs started on this page since it loaded (tests check that opening a session ran nothing). */
  runCount(): number;
  /** The state and bytes of a session file. */
  saveSession(): Promise<SessionSave>;
  /**
   * Checks a session whole (its state, files, models, results) without changing what the page
   * shows, and returns the function that then restores it exactly, results included, without
   * running. Throws an Error naming what is wrong; on a throw the page is as it was.
   */
  openSession(state: unknown, files: Map<string, Uint8Array>, name: string): Promise<() => void>;
}
