/**
 * A worker thread of the CLI's decode pool (decodePool.ts): decodes JPEG/PNG/TIFF slices to 8-bit
 * gray with core's decoders (libjpeg-turbo WASM for JPEG) and sends the pixels back, transferred.
 */
import { parentPort } from 'node:worker_threads';
import { decodeGrayImage } from '../core/motors/decode';

export interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  name: string;
}

export type DecodeReply = { id: number; width: number; height: number; gray: Uint8Array } | { id: number; error: string; input: boolean };

parentPort?.on('message', (m: DecodeRequest) => {
  try {
    const img = decodeGrayImage(m.bytes, m.name);
    const reply: DecodeReply = { id: m.id, width: img.width, height: img.height, gray: img.gray };
    parentPort!.postMessage(reply, [img.gray.buffer as ArrayBuffer]);
  } catch (e) {
    const reply: DecodeReply = { id: m.id, error: (e as Error).message ?? String(e), input: (e as Error).name === 'InputError' };
    parentPort!.postMessage(reply);
  }
});
