/**
 * Share links for any page in the registry: what "Copy link" writes, and opening a link
 * (see the steps in ./types.ts). Scene values (crosshair, pan, zoom) are common to every page
 * with a Niivue view and read/written through ../viewer.
 */
import { createStore } from 'zustand/vanilla';
import { decodeLink, encodeLink, type ShareField, type ShareSpec, type ShareValues } from '../../core/share/query';
import { planLinkUrls, refusedText } from '../../core/share/urlPolicy';
import type { PresetEntry } from '../presets';
import { useStore } from '../store';
import { readScene, viewerIdle, writeScene } from '../viewer';
import { fetchUrl } from './cache';
import { askConsent, useTrustStore } from './consent';

export const SCENE_DEFAULTS: ShareValues = { xyz: [0.5, 0.5, 0.5], zoom: 1, pan: [0, 0, 0] };
const SCENE_FIELDS: Record<string, ShareField> = { xyz: { min: 0, max: 1 }, zoom: { min: 0.01, max: 100 } };

const round = (x: number, d: number): number => Number(x.toFixed(d));

/** The Niivue scene as link values ({} when nothing is shown). */
export function sceneValues(): ShareValues {
  const s = readScene();
  if (!s) return {};
  return { xyz: s.crosshair.map((x) => round(x, 4)), zoom: round(s.zoom, 3), pan: s.pan.map((x) => round(x, 2)) };
}

/** Applies the scene values a link or a session carries. */
export function applyScene(values: ShareValues): void {
  const xyz = values.xyz as number[] | undefined;
  const pan = values.pan as number[] | undefined;
  const zoom = values.zoom as number | undefined;
  if (!xyz && !pan && zoom === undefined) return;
  writeScene({
    ...(xyz ? { crosshair: [xyz[0], xyz[1], xyz[2]] as [number, number, number] } : {}),
    ...(pan ? { pan: [pan[0], pan[1], pan[2]] as [number, number, number] } : {}),
    ...(zoom !== undefined ? { zoom } : {}),
  });
}

const frame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => r()));

/** Waits until React has drawn the result and the viewer has loaded what it was given. */
export async function settleView(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await viewerIdle();
    await frame();
    await frame();
  }
}

/** The page's full spec: its own values and, with a Niivue view, the scene values. */
export function linkSpec(entry: PresetEntry): ShareSpec | null {
  const share = entry.share;
  if (!share) return null;
  const spec = share.spec();
  if (share.scene === false) return spec;
  return { defaults: { ...spec.defaults, ...SCENE_DEFAULTS }, fields: { ...(spec.fields ?? {}), ...SCENE_FIELDS } };
}

export interface LinkInfo {
  /** The full address, or null when the state cannot be shared by link. */
  url: string | null;
  /** Why not (local files, nothing loaded), for the page to say. */
  problem?: string;
  /** The page offers a session file instead. */
  offerSession?: boolean;
}

/** The link of what the page shows now. */
export function currentLink(entry: PresetEntry): LinkInfo {
  const share = entry.share;
  if (!share) return { url: null, problem: `The ${entry.label} page cannot make links yet.` };
  const src = share.sources();
  if (src.empty) return { url: null, problem: 'Nothing to share yet: open a demo, or data and a model from URLs.' };
  if (src.local.length > 0) {
    const names = src.local.slice(0, 3).join(', ') + (src.local.length > 3 ? ` and ${src.local.length - 3} more` : '');
    return {
      url: null,
      offerSession: true,
      problem: `${names} ${src.local.length === 1 ? 'was' : 'were'} opened from this computer: a link cannot carry local files. Save a session file instead (it holds the files and the results).`,
    };
  }
  const spec = linkSpec(entry)!;
  const values = { ...share.values(), ...(share.scene === false ? {} : sceneValues()) };
  const query = encodeLink(
    { ...(src.demo ? { demo: src.demo } : { preset: entry.id }), models: src.models, data: src.data, ...(src.labels ? { labels: src.labels } : {}), values },
    spec.defaults,
  );
  return { url: `${window.location.origin}${window.location.pathname}${query}` };
}

/** The link being opened (or opened last): `linkOpened` waits on it. */
const opening = createStore<{ link: Promise<void> | null }>()(() => ({ link: null }));

/** Resolves when the link the page was opened with has been applied (tests and the gallery script wait on it). */
export function linkOpened(): Promise<void> {
  return opening.getState().link ?? Promise.resolve();
}

/**
 * Whether a link may fetch its URLs (src/core/share/urlPolicy.ts): the app's own files and trusted
 * sites yes; other sites once the user agreed in the consent dialog; private and link-local
 * addresses never (the whole link is refused, with a message). Nothing is fetched before this.
 */
export async function linkMayFetch(urls: readonly string[]): Promise<boolean> {
  const { addMessage, clearMessages } = useStore.getState();
  clearMessages('link');
  const plan = planLinkUrls(urls, document.baseURI, useTrustStore.getState().origins);
  if (plan.refused.length > 0) {
    const n = plan.refused.length;
    addMessage(
      'error',
      `The link's files were not loaded: it names ${n === 1 ? 'an address' : `${n} addresses`} a link may not load from (${plan.refused.map(refusedText).join('; ')}). Nothing was downloaded. To open such a file on purpose, type its address under Share → Open URL.`,
      { key: 'link' },
    );
    return false;
  }
  if (plan.ask.length === 0) return true;
  const answer = await askConsent(plan.ask);
  if (!answer.load) {
    addMessage('warning', `The link's files from ${plan.ask.map((h) => h.host).join(', ')} were not loaded (you chose Cancel; nothing was downloaded).`, { key: 'link' });
    return false;
  }
  return true;
}

/**
 * Opens a link: demo or URLs, values, run, view. Problems (bad values, unknown keys, a failed
 * download) are shown as messages and the rest of the link still applies.
 */
export function openLink(entry: PresetEntry, params: URLSearchParams): Promise<void> {
  const link = doOpen(entry, params).catch((e: unknown) => {
    useStore.getState().addMessage('error', `Could not open the link: ${(e as Error).message ?? e}`);
  });
  opening.setState({ link });
  return link;
}

async function doOpen(entry: PresetEntry, params: URLSearchParams): Promise<void> {
  const share = entry.share!;
  const { addMessage } = useStore.getState();
  const decoded = decodeLink(params, (page) => {
    if ((page.demo !== undefined && entry.demo?.name === page.demo) || (page.demo === undefined && page.preset === entry.id)) return linkSpec(entry);
    return null;
  });
  for (const p of decoded.problems) addMessage('warning', p);
  const { state } = decoded;
  const values = state.values;
  if (state.demo !== undefined && entry.demo?.name === state.demo) {
    await entry.demo.open({ run: false });
  } else if (state.models.length + state.data.length > 0 || state.labels) {
    if (!(await linkMayFetch([...state.models, ...state.data, ...(state.labels ? [state.labels] : [])]))) return;
    const ok = await share.load({ models: state.models, data: state.data, ...(state.labels ? { labels: state.labels } : {}) }, fetchUrl);
    if (!ok) return;
  } else {
    // only the page and its values: nothing to run
    for (const p of await share.apply(values)) addMessage('warning', p);
    return;
  }
  for (const p of await share.apply(values)) addMessage('warning', p);
  await share.run();
  await share.viewReady?.();
  await settleView();
  share.applyView?.(values);
  await settleView();
  applyScene(values);
}
