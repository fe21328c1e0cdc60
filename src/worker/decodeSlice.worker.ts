/**
 * One worker of the page's slice decode pool (decodePool.ts): loads libjpeg-turbo (the same WASM
 * build as the CLI) and answers each DecodeRequest with core's answerDecode.
 */
import { loadJpegDecoder } from '../core/io/jpeg';
import { jpegWasmUrl } from '../core/io/jpegBrowser';
import { answerDecode, type DecodeReply, type DecodeRequest } from '../core/motors/decodePool';

const ready = loadJpegDecoder({ wasmUrl: jpegWasmUrl });
const scope = self as unknown as { onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null; postMessage(m: DecodeReply, transfer?: Transferable[]): void };

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
