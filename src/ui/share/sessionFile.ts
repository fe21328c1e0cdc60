/** "Save session" / "Open session" for any page with share hooks (format: src/core/share/session.ts). */
import type { ShareValues } from '../../core/share/query';
import { readSession, SESSION_EXT, writeSession } from '../../core/share/session';
import type { PresetEntry } from '../presets';
import { download } from '../save';
import { useStore } from '../store';
import { applyScene, currentLink, sceneValues, settleView } from './link';

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

/**
 * Opens a session file: switches to its page, restores inputs, values and results (nothing runs),
 * then the view. `show` switches the page (presets.switchPreset).
 */
export async function openSessionFile(file: File, entries: readonly PresetEntry[], show: (entry: PresetEntry) => void): Promise<void> {
  const { addMessage, clearMessages } = useStore.getState();
  clearMessages('session');
  try {
    const s = readSession(new Uint8Array(await file.arrayBuffer()), file.name);
    const entry = entries.find((e) => e.id === s.preset);
    if (!entry) throw new Error(`${file.name}: it is a session of the "${s.preset}" page, which this version of Voxelbench does not have`);
    if (!entry.share) throw new Error(`${file.name}: the ${entry.label} page cannot open sessions yet`);
    const saved = s.state as SavedPage;
    if (!saved || typeof saved !== 'object' || !('page' in saved)) throw new Error(`${file.name}: session.json has no page state`);
    show(entry);
    useStore.setState({ busy: `Opening the session ${file.name}…` });
    try {
      await entry.share.openSession(saved.page, s.files, file.name);
    } finally {
      useStore.setState({ busy: null });
    }
    await entry.share.viewReady?.();
    await settleView();
    entry.share.applyView?.(saved.values ?? {});
    await settleView();
    applyScene(saved.scene ?? {});
  } catch (e) {
    addMessage('error', `Could not open the session: ${(e as Error).message}`, { key: 'session' });
  }
}
