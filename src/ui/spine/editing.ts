/**
 * Correcting the masks: the selected series' labels become Niivue's drawing, the user paints with
 * a vertebra's label (or erases), and "Apply" reads the drawing back as the corrected label map
 * (saved as NIfTI in the CT's space like the model's masks).
 */
import { useStore } from '../store';
import { downloadMasks } from './actions';
import { correctedLabels, currentLabels, holdCorrected, loadedSeries, modelLabels } from './cache';
import { changedVoxels } from './display';
import { isEditing, readDrawing, setPen, startEditing, stopEditing, undoEdit } from './spineViewer';
import { patchSeries, setView, useSpine } from './state';

let editingKey: string | null = null;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Starts editing the selected series' labels with pen `pen` (k = C_k, 0 = eraser). */
export async function beginEdit(pen = 1): Promise<boolean> {
  const s = useSpine.getState();
  const key = s.selected;
  const series = key ? loadedSeries(key) : undefined;
  const labels = key ? currentLabels(key) : undefined;
  if (!key || !series || !labels) {
    useStore.getState().addMessage('warning', 'Run the series first: there are no masks to edit yet.');
    return false;
  }
  if (s.batch.status === 'running') return false;
  if (isEditing()) {
    choosePen(pen);
    return true;
  }
  try {
    await startEditing(series.volume, labels, pen, s.view.opacity);
  } catch (e) {
    useStore.getState().addMessage('error', `Could not start editing: ${errorText(e)}`);
    return false;
  }
  editingKey = key;
  setView({ pen, showMasks: true });
  return true;
}

export function choosePen(pen: number): void {
  setPen(pen);
  setView({ pen });
}

export const undo = (): void => undoEdit();

/** Reads the drawing into the corrected labels (stays in drawing mode). */
export function applyEdits(): boolean {
  const key = editingKey;
  const series = key ? loadedSeries(key) : undefined;
  if (!key || !series) return false;
  const drawn = readDrawing(series.volume);
  if (!drawn) return false;
  const model = modelLabels(key);
  const changed = model ? changedVoxels(model, drawn) : 0;
  holdCorrected(key, changed > 0 ? drawn : undefined);
  patchSeries(key, { edited: changed > 0 ? changed : undefined });
  return true;
}

/** Leaves drawing mode, keeping the edits (`apply`) or dropping the ones not applied yet. */
export function endEdit(apply: boolean): void {
  if (!isEditing()) return;
  if (apply) applyEdits();
  stopEditing();
  editingKey = null;
  setView({ pen: null });
}

/** Back to the model's masks. */
export function revertEdits(key: string): void {
  if (editingKey === key) endEdit(false);
  holdCorrected(key, undefined);
  patchSeries(key, { edited: undefined });
}

/** Saves the corrected masks (the drawing in progress included) as .nii.gz. */
export function downloadCorrected(key: string): void {
  if (editingKey === key) applyEdits();
  downloadMasks(key, true);
}

export const editedKey = (): string | null => editingKey;
export const hasEdits = (key: string): boolean => correctedLabels(key) !== undefined;
