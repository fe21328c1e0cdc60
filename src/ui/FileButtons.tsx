import { useRef, type ChangeEvent } from 'react';
import { SUPPORTED_VOLUME_EXTENSIONS } from '../core/io';
import { openFiles } from './actions';
import { useStore } from './store';

/** "Open volume…" / "Open model…" with their hidden file inputs (both sort files by type). */
export function FileButtons() {
  const volumeRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const busy = useStore((s) => s.busy !== null);
  const onPick = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = ''; // the same file can be picked again
    if (files.length > 0) void openFiles(files);
  };
  return (
    <>
      <button onClick={() => volumeRef.current?.click()} disabled={busy} data-testid="open-volume">
        Open volume…
      </button>
      <input
        ref={volumeRef}
        type="file"
        hidden
        accept={[...SUPPORTED_VOLUME_EXTENSIONS, '.gz'].join(',')}
        onChange={onPick}
        data-testid="volume-input"
      />
      <button onClick={() => modelRef.current?.click()} disabled={busy} data-testid="open-model">
        Open model…
      </button>
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.data,.bin,.json" onChange={onPick} data-testid="model-input" />
    </>
  );
}
