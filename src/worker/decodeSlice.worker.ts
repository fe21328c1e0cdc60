/**
 * One worker of the page's slice decode pool (decodePool.ts): loads libjpeg-turbo (the same WASM
 * build as the CLI), says whether it could ({ ready: true } or { ready: false, error }), and answers
 * each DecodeRequest with core's answerDecode.
 */
import { loadJpegDecoder } from '../core/io/jpeg';
import { jpegWasmUrl } from '../core/io/jpegBrowser';
import { answerDecode, type DecodeReply, type DecodeRequest } from '../core/motors/decodePool';
import type { DecoderReady } from './decodePool';

const ready = loadJpegDecoder({ wasmUrl: jpegWasmUrl });
const scope = self as unknown as { onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null; postMessage(m: DecodeReply | DecoderReady, transfer?: Transferable[]): void };

ready.then(
  () => scope.postMessage({ ready: true }),
  (err: unknown) => scope.postMessage({ ready: false, error: (err as Error).message ?? String(err) }),
);

scope.onmessage = async (e) => {
  try {
    await ready;
  } catch (err) {
    scope.postMessage({ id: e.data.id, error: (err as Error).message, input: false });
    return;
  }
  const { reply, transfer } = answerDecode(e.data);
  scope.postMessage(reply, transfer);
};
