/**
 * The spine page's use of the shared Niivue instance (src/ui/viewer.ts): the CT with a window,
 * the C1..C7 label overlay with per-vertebra visibility, and mask editing with Niivue's drawing
 * tools (the labels loaded as the drawing, the pen value = the vertebra, read back into the CT's
 * own voxel order). Which series is being edited is the page's store's (`ui.editing`), not kept here.
 */
import { NVImage } from '@niivue/niivue';
import { writeNifti } from '../../core/io/nifti';
import { spatialShape, type Volume } from '../../core/volume';
import { getNiivue, recolourLabels, showOverlay, styleOverlay, type OverlayStyle } from '../viewer';
import { drawingToNative, labelsVolume, vertebraColormap } from './display';

/** Colours (and hidden vertebrae) of the label overlay, without reloading it. */
export function colourLabels(visible: readonly boolean[]): void {
  recolourLabels(vertebraColormap(visible));
}

export const labelStyle = (opacity: number, visible: boolean): OverlayStyle => ({ colormap: 'gray', opacity, calMin: 0, calMax: 7, visible });

/** Shows `labels` (on `ct`'s grid) as the overlay, or removes it. */
export async function showLabels(ct: Volume | null, labels: Uint8Array | null, style: OverlayStyle, visible: readonly boolean[]): Promise<void> {
  if (!ct || !labels) {
    await showOverlay(null, style);
    return;
  }
  await showOverlay({ kind: 'labels', data: labels, ref: ct, nLabels: 8, labelNames: null, colours: vertebraColormap(visible) }, style);
}

export { styleOverlay };

/** Loads `labels` as Niivue's drawing and turns the pen on with `pen` (0 erases). */
export async function startEditing(ct: Volume, labels: Uint8Array, pen: number, opacity: number): Promise<void> {
  const v = getNiivue();
  if (v.volumes.length === 0) throw new Error('no CT is shown');
  const bytes = writeNifti(labelsVolume(ct, labels, 'drawing.nii'), { gzip: false });
  const img = await NVImage.loadFromUrl({ url: bytes, name: 'drawing.nii' });
  if (!v.loadDrawing(img)) throw new Error('the labels do not fit the CT shown');
  // the draw colormap takes a colormap object at run time (typed as a name)
  v.setDrawColormap(vertebraColormap() as unknown as string);
  v.setDrawOpacity(opacity);
  v.setDrawingEnabled(true);
  v.setPenValue(pen, false);
}

export function setPen(pen: number): void {
  getNiivue().setPenValue(pen, false);
}

export function undoEdit(): void {
  getNiivue().drawUndo();
}

/** The drawing as a label map in the CT's own voxel order ([D, H, W], C-order), or null when there is none. */
export function readDrawing(ct: Volume): Uint8Array | null {
  const v = getNiivue();
  const back = v.volumes[0];
  const bmp = v.drawBitmap;
  if (!back || !bmp) return null;
  const n = spatialShape(ct).reduce((a, b) => a * b, 1);
  if (!back.img2RASstep || !back.img2RASstart || !back.dimsRAS) return bmp.length === n ? bmp.slice() : null;
  return drawingToNative(bmp, { start: back.img2RASstart, step: back.img2RASstep, dimsRAS: back.dimsRAS }, n);
}

/** Leaves drawing mode (the drawing is dropped; read it first). */
export function stopEditing(): void {
  const v = getNiivue();
  v.setDrawingEnabled(false);
  v.closeDrawing();
}
