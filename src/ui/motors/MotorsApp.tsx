/** The "Flagellar motors" preset page: inputs and queue, preset values, view and detections, run and scores. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ErrorBoundary } from '../ErrorBoundary';
import { Header } from '../Header';
import { MessageBanner, MessageLog, StatusLine } from '../MessageBanner';
import { addFiles, cancelMotors, ensureLoaded, runMotors, submissionText } from './actions';
import { InputsPanel, QueuePanel } from './InputsPanel';
import { pickedFiles, walkEntries } from './load';
import { MotorsView } from './MotorsView';
import { ParamsPanel } from './ParamsPanel';
import { ResultsTable } from './ResultsTable';
import { MotorsRunPanel } from './RunPanel';
import { ScorePanel } from './ScorePanel';
import { useMotors } from './state';
import './motors.css';

declare global {
  interface Window {
    /** Test handles: the motors store, the exact submission text, a tomogram's voxels as loaded. */
    __voxelbenchMotors?: { store: typeof useMotors; submission: () => string; tomogram: typeof ensureLoaded };
  }
}

export function exposeMotorsHooks(): void {
  window.__voxelbenchMotors = { store: useMotors, submission: submissionText, tomogram: ensureLoaded };
}

const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');

/** The whole page takes dropped folders and files; folders are walked (each subfolder of slices = one tomogram). */
function MotorsDropZone({ children }: { children: ReactNode }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
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
          .then(({ files: f, emptyFolders }) => addFiles(f, emptyFolders))
          .catch(() => addFiles(pickedFiles(files)));
      } else if (files.length > 0) void addFiles(pickedFiles(files));
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
            <div className="drop-hint-title">Drop to add</div>
            <div>folders of slices (one per tomogram) · .mrc / .rec / .tif · .onnx models · labels .csv · model card .json</div>
          </div>
        </div>
      )}
    </div>
  );
}

function useMotorsKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') cancelMotors();
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        (document.activeElement as HTMLElement | null)?.blur?.();
        void runMotors();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function MotorsApp() {
  useEffect(exposeMotorsHooks, []);
  useMotorsKeys();
  return (
    <MotorsDropZone>
      <div className="app motors-app" data-testid="motors-app">
        <Header />
        <MessageBanner />
        <main className="layout motors-layout">
          <aside className="sidebar">
            <ErrorBoundary what="the inputs panel">
              <InputsPanel />
              <QueuePanel />
              <ParamsPanel />
            </ErrorBoundary>
          </aside>
          <div className="motors-centre">
            <ErrorBoundary what="the viewer">
              <MotorsView />
            </ErrorBoundary>
            <ErrorBoundary what="the detections table">
              <ResultsTable />
            </ErrorBoundary>
          </div>
          <aside className="sidebar">
            <ErrorBoundary what="the run panel">
              <MotorsRunPanel />
              <ScorePanel />
              <MessageLog />
            </ErrorBoundary>
          </aside>
        </main>
        <StatusLine />
      </div>
    </MotorsDropZone>
  );
}
