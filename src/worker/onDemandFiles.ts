/**
 * Files the page hands the worker unread (a preset with `inputs.readsOnDemand`: motors), as
 * InputFiles read here when the preset asks: `bytes` with FileReaderSync (each access reads the file
 * again; such presets take it once), `load` with Blob.arrayBuffer, `range` with Blob.slice. A slice folder is then read one slice
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
      readInto: async (offset, into) => {
        try {
          return await readBlobInto(file.slice(offset, offset + into.length), into);
        } catch (e) {
          throw unreadable(path, e);
        }
      },
    },
  };
}

/**
 * A blob's bytes into `into`'s memory through a BYOB stream reader (each read detaches the buffer
 * and hands back the same memory: no allocation per slab), or copied from arrayBuffer() where the
 * browser's Blob stream takes no BYOB reader.
 */
async function readBlobInto(blob: Blob, into: Uint8Array): Promise<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    into.set(bytes.subarray(0, into.length));
    return into.subarray(0, bytes.length);
  }
  const { byteOffset, length } = into;
  let buffer = into.buffer as ArrayBuffer;
  let filled = 0;
  let ended = false;
  try {
    while (filled < length) {
      const { value, done } = await reader.read(new Uint8Array(buffer, byteOffset + filled, length - filled));
      if (value) buffer = value.buffer as ArrayBuffer; // the same memory, handed back (also when done)
      if (done || !value) {
        ended = true;
        break;
      }
      filled += value.length;
    }
    // read the stream to its end (a stream left open per slab held the file's reader in Chromium)
    if (!ended) ended = (await reader.read(new Uint8Array(1))).done;
  } finally {
    if (!ended) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return new Uint8Array(buffer, byteOffset, filled);
}

/** readInputs' files as the preset reads them. */
export const workerInputFiles = (files: readonly WorkerInputFile[]): InputFile[] => files.map((f) => ('file' in f ? onDemandInputFile(f.path, f.file) : f));
