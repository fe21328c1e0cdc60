/**
 * Browser/worker side of the JPEG decoder: Vite emits libjpeg-turbo's .wasm and gives its URL, for
 * `loadJpegDecoder({ wasmUrl: jpegWasmUrl })` (src/worker/decodePool.ts). Node (CLI, tests) never
 * imports this module, so it never sees the `?url` import.
 */
import wasmUrl from '@cwasm/jpeg-turbo/jpeg-turbo.wasm?url';

export const jpegWasmUrl: string = wasmUrl;
