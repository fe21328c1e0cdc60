/**
 * Correcting the masks: the selected series' masks become Niivue's drawing, the user paints with a
 * vertebra's label (or erases), and "Apply" reads the drawing back as the corrected masks, kept in
 * the series' entry (`edits`, saved with sessions) and saved as NIfTI in the CT's space like the
 * model's masks. Which series is being edited, and the pen, are the store's `ui` state.
 */
import { patchItem } from '../kit/store';
import { errorText, say } from '../kit/messages';
import { changedVoxels } from './display';
import { currentLabels, downloadMasks, spineStore as store, type SpineEdits, type SpineUi } from './page';
import { readDrawing, setPen, startEditing, stopEditing, undoEdit } from './spineViewer';

const ui = (): SpineUi => store.getState().ui;
const setUi = (patch: Partial<SpineUi>): void => store.setState((s) => ({ ui: { ...s.ui, ...patch } }));
const entry = (id: string | null) => store.getState().items.find((t) => t.id === id);

/** Starts editing the shown series' masks with pen `pen` (k = C_k, 0 = eraser). */
export async function beginEdit(pen = 1): Promise<boolean> {
  const s = store.getState();
  const shown = s.ui.shown;
  const labels = shown && shown.id === s.selected ? currentLabels(entry(shown.id)) : undefined;
  if (!shown || !labels) {
    say('warning', 'Run the series first: there are no masks to edit yet.');
    return false;
  }
  if (s.batch.status === 'running') return false;
  if (s.ui.editing !== null) {
    choosePen(pen);
    return true;
  }
  try {
    await startEditing(shown.ct, labels, pen, s.view.opacity);
  } catch (e) {
    say('error', `Could not start editing: ${errorText(e)}`);
    return false;
  }
  setUi({ editing: shown.id, pen });
  store.setState((st) => ({ view: { ...st.view, showMasks: true } }));
  return true;
}

export function choosePen(pen: number): void {
  if (ui().editing === null) return;
  setPen(pen);
  setUi({ pen });
}

export function undo(): void {
  if (ui().editing !== null) undoEdit();
}

/** Reads the drawing into the corrected masks (stays in drawing mode). */
export function applyEdits(): boolean {
  const { editing: id, shown } = ui();
  const model = entry(id)?.result?.labels;
  if (id === null || shown?.id !== id || !model) return false;
  const drawn = readDrawing(shown.ct);
  if (!drawn) return false;
  const changed = changedVoxels(model, drawn);
  const edits: SpineEdits | undefined = changed > 0 ? { labels: drawn, changed } : undefined;
  patchItem(store, id, { edits });
  return true;
}

/** Leaves drawing mode, keeping the edits (`apply`) or dropping the ones not applied yet. */
export function endEdit(apply: boolean): void {
  if (ui().editing === null) return;
  if (apply) applyEdits();
  stopEditing();
  setUi({ editing: null, pen: null });
}

/** Back to the model's masks. */
export function revertEdits(id: string): void {
  if (ui().editing === id) endEdit(false);
  patchItem(store, id, { edits: undefined });
}

/** Saves the corrected masks (the drawing in progress included) as .nii.gz. */
export function downloadCorrected(id: string): void {
  if (ui().editing === id) applyEdits();
  void downloadMasks(id, true);
}
