/**
 * A worker thread of the CLI's decode pool (decodePool.ts): answers each request with core's
 * answerDecode. Requests by path are read here, into one buffer that grows to the largest slice and
 * is reused, so that reading a folder leaves no garbage per slice on any thread (a 500-slice folder
 * otherwise left hundreds of MB of slice-sized buffers for the garbage collector: peak RSS).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { loadJpegDecoder } from '../core/io/jpeg';
import { answerDecode, type DecodeRequest } from '../core/motors/decodePool';
import { InputError } from '../core/volume';

let buffer = new Uint8Array(0);

function readPath(path: string, name: string): Uint8Array {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size > buffer.length) buffer = new Uint8Array(Math.max(size, Math.min(2 * buffer.length, 2 ** 30)));
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buffer, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read '${name}'${code ? ` (${code})` : ''}: ${(e as Error).message}`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

// libjpeg-turbo is loaded as the thread starts (the pool's warm(): before any slice is asked for);
// a slice asked for first waits for it; if it cannot load, the first JPEG decode loads it again and says why
const ready = loadJpegDecoder().catch(() => undefined);

parentPort?.on('message', (m: DecodeRequest) => {
  void ready.then(() => {
    const { reply, transfer } = answerDecode(m, readPath);
    parentPort!.postMessage(reply, transfer);
  });
});
