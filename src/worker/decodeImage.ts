/**
 * Image slices decoded with the browser's decoder inside the worker (createImageBitmap and
 * OffscreenCanvas exist in workers): what readInputs passes to a preset's `inputs.read` as
 * `decodeImage` (the motors preset's slice folders). Nothing here runs on the page's thread.
 */
import { decodeGrayImage, rgbaToGray, type GrayImage } from '../core/motors/decode';
import { IMAGE_EXT } from '../core/motors/sources';

/**
 * Decodes a JPEG/PNG slice with the browser's decoder (no colour management) and converts it to
 * gray with core's luma (R = G = B = v gives v, as gray JPEGs decode). TIFF slices and anything
 * the browser cannot decode go through core's pure-JS decoders (which name what is wrong).
 */
export async function decodeImageInWorker(bytes: Uint8Array, name: string): Promise<GrayImage> {
  if (!IMAGE_EXT.test(name) || typeof createImageBitmap !== 'function' || typeof OffscreenCanvas === 'undefined') return decodeGrayImage(bytes, name);
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(new Blob([bytes as BlobPart]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    // not an image the browser reads: let the pure-JS decoder say what is wrong with it
    return decodeGrayImage(bytes, name);
  }
  try {
    const { width, height } = bmp;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas context');
    ctx.drawImage(bmp, 0, 0);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    return { width, height, gray: rgbaToGray(rgba, width, height) };
  } finally {
    bmp.close();
  }
}
