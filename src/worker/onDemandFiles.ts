/**
 * Files the page hands the worker unread (a preset with `inputs.readsOnDemand`: motors), as
 * InputFiles read here when the preset asks: `bytes` with FileReaderSync (each access reads the file
 * again; such presets take it once), `load` with Blob.arrayBuffer, `range` with Blob.slice (no
 * `readInto`: reading MRC slabs through BYOB stream readers into reused buffers hung Chromium now
 * and then on a 2 GB file, so each slab is its own ArrayBuffer). A slice folder is then read one slice
 * at a time and an MRC tomogram one slab at a time, instead of every byte first (a 500-slice folder
 * held 235 MB of JPEG bytes in the worker for the whole read; a float32 MRC, four times the volume).
 */
import type { InputFile } from '../core/preset/types';
import { InputError } from '../core/volume';
import type { WorkerInputFile } from './protocol';

const unreadable = (path: string, e: unknown): InputError =>
  new InputError(`${path}: the file could not be read (${(e as Error).message ?? e}); was it moved or changed after it was dropped?`);

export function onDemandInputFile(path: string, file: Blob): InputFile {
  return {
    path,
    get bytes(): Uint8Array {
      try {
        return new Uint8Array(new FileReaderSync().readAsArrayBuffer(file));
      } catch (e) {
        throw unreadable(path, e);
      }
    },
    load: async () => {
      try {
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        throw unreadable(path, e);
      }
    },
    range: {
      size: file.size,
      read: async (offset, length) => {
        try {
          return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
        } catch (e) {
          throw unreadable(path, e);
        }
      },
    },
  };
}

/** readInputs' files as the preset reads them. */
export const workerInputFiles = (files: readonly WorkerInputFile[]): InputFile[] => files.map((f) => ('file' in f ? onDemandInputFile(f.path, f.file) : f));
