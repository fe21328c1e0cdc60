/**
 * Browser/worker side of the JPEG 2000 decoder: Vite emits the .wasm and gives its URL. openjpeg.ts
 * imports this module dynamically, only outside Node, so Node (CLI, tests) never sees the `?url` import.
 */
import wasmUrl from '@cornerstonejs/codec-openjpeg/decodewasm?url';

export const openJpegWasmUrl: string = wasmUrl;
