/**
 * Reading tomograms in the page: directory walks of dropped folders, file inputs (with
 * webkitRelativePath), and decoding a source into a uint8 Tomogram one slice at a time.
 */
import { readVolume } from '../../core/io';
import { decodeGrayImage, readTiffStack, rgbaToGray, type GrayImage } from '../../core/motors/decode';
import { stackSliceFiles, tomogramFromVolume, type Tomogram } from '../../core/motors/tomogram';
import { IMAGE_EXT, type PickedFile, type TomoSource } from './sources';

/** Files from an <input type=file> (webkitdirectory gives each file its path inside the folder). */
export function pickedFiles(list: FileList | File[]): PickedFile[] {
  return Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/**
 * Walks dropped items (folders recursively). Must be given the entries taken synchronously in
 * the drop handler (DataTransferItem.webkitGetAsEntry()); the items are gone after the event.
 */
export async function walkEntries(entries: FileSystemEntry[]): Promise<{ files: PickedFile[]; emptyFolders: string[] }> {
  const files: PickedFile[] = [];
  const emptyFolders: string[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    const path = entry.fullPath.replace(/^\/+/, '');
    if (entry.isFile) {
      files.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
      return;
    }
    if (!entry.isDirectory) return;
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    const children: FileSystemEntry[] = [];
    // readEntries returns batches (100 in Chromium) until an empty one
    for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) children.push(...batch);
    if (children.length === 0) emptyFolders.push(path);
    for (const c of children) await walk(c);
  };
  for (const e of entries) await walk(e);
  return { files, emptyFolders };
}

/**
 * Decodes a JPEG/PNG slice with the browser's decoder (createImageBitmap, no colour management)
 * and converts it to gray with core's luma (R = G = B = v gives v, as gray JPEGs decode). TIFF
 * slices and anything the browser cannot decode go through core's pure-JS decoders.
 */
export async function decodeSliceInPage(bytes: Uint8Array, name: string): Promise<GrayImage> {
  if (!IMAGE_EXT.test(name) || typeof createImageBitmap !== 'function') return decodeGrayImage(bytes, name);
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

export interface LoadOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface LoadedTomogram {
  tomogram: Tomogram;
  /** Files of a slice folder that were not images (skipped). */
  skipped: string[];
}

/** Reads one source into a uint8 tomogram; throws an (Input)Error with a message for the user. */
export async function loadSource(src: TomoSource, opts: LoadOptions = {}): Promise<LoadedTomogram> {
  if (src.kind === 'slices') {
    const files = src.files.map((f) => ({ name: f.path, read: async () => new Uint8Array(await f.file.arrayBuffer()) }));
    return stackSliceFiles(src.id, files, decodeSliceInPage, { signal: opts.signal, onSlice: opts.onProgress });
  }
  const name = src.file.file.name;
  const bytes = new Uint8Array(await src.file.file.arrayBuffer());
  if (src.kind === 'tiff') return { tomogram: readTiffStack(bytes, src.id, name), skipped: [] };
  const vol = readVolume(bytes, name);
  return { tomogram: tomogramFromVolume(vol, src.id), skipped: [] };
}
