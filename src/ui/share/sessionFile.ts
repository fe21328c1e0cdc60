/** "Save session" / "Open session" for any page with share hooks (format: src/core/share/session.ts). */
import { z } from '../../core/zod';
import { formatValue, parseValue, type ShareSpec, type ShareValue, type ShareValues } from '../../core/share/query';
import { readSession, SESSION_EXT, writeSession } from '../../core/share/session';
import type { PresetEntry } from '../presets';
import { download } from '../save';
import { useStore } from '../store';
import { applyScene, currentLink, linkSpec, sceneValues, settleView } from './link';

/** session.json's state: the page's own part, its link values (view included) and the Niivue scene. */
interface SavedPage {
  page: unknown;
  values: ShareValues;
  scene: ShareValues;
}

/** The session file's bytes and a file name for it. */
export async function sessionBytes(entry: PresetEntry): Promise<{ bytes: Uint8Array; name: string }> {
  const share = entry.share;
  if (!share) throw new Error(`the ${entry.label} page cannot save sessions yet`);
  if (share.sources().empty) throw new Error('nothing is open');
  const saved = await share.saveSession();
  const link = currentLink(entry).url ?? undefined;
  const state: SavedPage = { page: saved.state, values: share.values(), scene: share.scene === false ? {} : sceneValues() };
  const bytes = writeSession({ preset: entry.id, state, files: saved.files, ...(link ? { link } : {}) });
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
  return { bytes, name: `voxelbench-${entry.id}-${stamp}${SESSION_EXT}` };
}

export async function saveSessionFile(entry: PresetEntry): Promise<void> {
  const { addMessage } = useStore.getState();
  try {
    const { bytes, name } = await sessionBytes(entry);
    download(bytes, name, 'application/zip');
    addMessage('info', `Saved the session as ${name} (${(bytes.byteLength / 1e6).toFixed(1)} MB): Open session restores it here or on another machine.`);
  } catch (e) {
    addMessage('error', `Could not save the session: ${(e as Error).message}`, { key: 'session' });
  }
}

const SCENE = z.object({
  xyz: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)]).optional(),
  zoom: z.number().min(0.01).max(100).optional(),
  pan: z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]).optional(),
});

const SAVED = z.object({
  page: z.unknown().refine((v) => v !== undefined && v !== null, 'missing'),
  values: z.record(z.string(), z.unknown()).default({}),
  scene: SCENE.default({}),
});

/**
 * The session's link values, checked against the page's spec (the kind of each default and its
 * rules, as a link's values are, but for choices, which may come with the session itself); values
 * the page does not have are left out.
 */
export function sessionValues(values: Record<string, unknown>, spec: ShareSpec, name: string): ShareValues {
  const out: ShareValues = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    const def = spec.defaults[k];
    if (def === undefined) continue;
    const okKind = Array.isArray(def)
      ? Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string')
      : typeof v === typeof def && (typeof v !== 'number' || Number.isFinite(v));
    if (!okKind) {
      problems.push(`values.${k}: expected ${Array.isArray(def) ? 'a list' : typeof def}, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`);
      continue;
    }
    // the choices (class names…) may be the session's own, not yet the page's: the page checks those as it applies them
    const { choices: _c, ...rules } = spec.fields?.[k] ?? {};
    void _c;
    try {
      out[k] = parseValue(k, formatValue(v as ShareValue), def, rules);
    } catch (e) {
      problems.push(`values.${(e as Error).message}`);
    }
  }
  if (problems.length > 0) throw new Error(`${name}: session.json has values this page cannot take (${problems.slice(0, 3).join('; ')})`);
  return out;
}

/**
 * Opens a session file: reads and checks all of it (the zip, session.json, the page's state and
 * every file, models loaded), and only then switches to its page and restores inputs, values and
 * results (nothing runs), then the view. On any problem one message says what, and everything the
 * pages had stays as it was. `show` switches the page (presets.switchPreset).
 */
export async function openSessionFile(file: File, entries: readonly PresetEntry[], show: (entry: PresetEntry) => void): Promise<void> {
  const { addMessage, clearMessages } = useStore.getState();
  clearMessages('session');
  try {
    if (useStore.getState().busy) throw new Error(`${file.name}: wait until "${useStore.getState().busy}" has finished`);
    const s = readSession(new Uint8Array(await file.arrayBuffer()), file.name);
    const entry = entries.find((e) => e.id === s.preset);
    if (!entry) throw new Error(`${file.name}: it is a session of the "${s.preset}" page, which this version of Voxelbench does not have`);
    if (!entry.share) throw new Error(`${file.name}: the ${entry.label} page cannot open sessions yet`);
    const parsed = SAVED.safeParse(s.state);
    if (!parsed.success) {
      const where = parsed.error.issues.slice(0, 3).map((i) => `${['state', ...i.path.map(String)].join('.')}: ${i.message}`);
      throw new Error(`${file.name}: session.json is not one this version reads (${where.join('; ')})`);
    }
    const saved = parsed.data;
    const values = sessionValues(saved.values, linkSpec(entry) ?? { defaults: {} }, file.name);
    useStore.setState({ busy: `Opening the session ${file.name}…` });
    let restore: () => void;
    try {
      restore = await entry.share.openSession(saved.page, s.files, file.name);
    } finally {
      useStore.setState({ busy: null });
    }
    // everything checked: now the page changes
    show(entry);
    restore();
    await entry.share.viewReady?.();
    await settleView();
    entry.share.applyView?.(values);
    await settleView();
    applyScene(saved.scene as ShareValues);
  } catch (e) {
    addMessage('error', `Could not open the session: ${(e as Error).message}`, { key: 'session' });
  }
}
