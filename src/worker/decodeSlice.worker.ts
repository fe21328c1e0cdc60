/**
 * One worker of the page's slice decode pool (decodePool.ts): loads libjpeg-turbo (the same WASM
 * build as the CLI), says whether it could ({ ready: true } or { ready: false, error }), and answers
 * each DecodeRequest with core's answerDecode, reading the slice file first when it is sent as a Blob.
 */
import { loadJpegDecoder } from '../core/io/jpeg';
import { jpegWasmUrl } from '../core/io/jpegBrowser';
import { answerDecode, type DecodeReply, type DecodeRequest } from '../core/motors/decodePool';
import type { DecoderReady } from './decodePool';
import { reusingBlobReader } from './onDemandFiles';

const ready = loadJpegDecoder({ wasmUrl: jpegWasmUrl });
const scope = self as unknown as { onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null; postMessage(m: DecodeReply | DecoderReady, transfer?: Transferable[]): void };

ready.then(
  () => scope.postMessage({ ready: true }),
  (err: unknown) => scope.postMessage({ ready: false, error: (err as Error).message ?? String(err) }),
);

/** The slice files' bytes, read into the same few buffers slice after slice. */
const files = reusingBlobReader();

scope.onmessage = async (e) => {
  const req = e.data;
  try {
    await ready;
  } catch (err) {
    scope.postMessage({ id: req.id, error: (err as Error).message, input: false });
    return;
  }
  let bytes = req.bytes;
  if (req.blob) {
    // the slice file itself (the inference worker never holds its bytes)
    try {
      bytes = await files.read(req.blob, req.name);
    } catch (err) {
      scope.postMessage({ id: req.id, error: (err as Error).message, input: true });
      return;
    }
  }
  const { reply, transfer } = answerDecode({ ...req, bytes });
  if (req.blob && bytes) files.release(bytes); // nothing in the reply points into it (answerDecode)
  scope.postMessage(reply, transfer);
};
