/**
 * Whole-page file drop shared by the workbench and the preset pages: a highlight while files are
 * dragged over, dropped folders walked recursively (each file with its path inside the drop), and
 * the Run / Cancel keys (Ctrl/Cmd+Enter, Esc).
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { pickedFiles, walkEntries, type PickedFile } from './kit/files';

const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');

export interface FileDropProps {
  /** Called with every dropped file (folders walked) and the folders that held nothing. */
  onFiles(files: PickedFile[], emptyFolders: string[]): void;
  /** What the overlay says while files are dragged over the page. */
  title?: string;
  hint: ReactNode;
  children: ReactNode;
}

export function FileDrop({ onFiles, title = 'Drop to add', hint, children }: FileDropProps) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const handler = useRef(onFiles);
  handler.current = onFiles;
  useEffect(() => {
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setOver(true);
    };
    const overFn = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.stopPropagation(); // the Niivue canvas would otherwise try to open them itself
      depth.current = 0;
      setOver(false);
      const dt = e.dataTransfer!;
      // entries must be taken now: the items are emptied when the event ends
      const entries = Array.from(dt.items ?? [])
        .map((it) => (it.kind === 'file' ? it.webkitGetAsEntry?.() : null))
        .filter((x): x is FileSystemEntry => !!x);
      const files = Array.from(dt.files);
      if (entries.length > 0) {
        void walkEntries(entries)
          .then(({ files: f, emptyFolders }) => handler.current(f, emptyFolders))
          .catch(() => handler.current(pickedFiles(files), []));
      } else if (files.length > 0) handler.current(pickedFiles(files), []);
    };
    window.addEventListener('dragenter', enter);
    // capture phase: before the Niivue canvas, which takes drops for itself
    window.addEventListener('dragover', overFn, true);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop, true);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', overFn, true);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop, true);
    };
  }, []);
  return (
    <div className={`dropzone ${over ? 'drag-over' : ''}`} data-testid="dropzone">
      {children}
      {over && (
        <div className="drop-hint">
          <div>
            <div className="drop-hint-title">{title}</div>
            <div>{hint}</div>
          </div>
        </div>
      )}
    </div>
  );
}

/** Ctrl/Cmd+Enter runs (after committing a half-typed field), Esc cancels; `active` gates them. */
export function useRunKeys(run: () => unknown, cancel: () => unknown, active: () => boolean = () => true): void {
  const fns = useRef({ run, cancel, active });
  fns.current = { run, cancel, active };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!fns.current.active()) return;
      if (e.key === 'Escape') fns.current.cancel();
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        (document.activeElement as HTMLElement | null)?.blur?.();
        void fns.current.run();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
