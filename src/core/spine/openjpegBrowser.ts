/** Browser/worker side of the JPEG 2000 decoder: Vite emits the .wasm and gives its URL. */
import wasmUrl from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import { configureOpenJpeg } from './openjpeg';

configureOpenJpeg({ wasmUrl });
