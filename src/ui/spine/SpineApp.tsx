/** The "Cervical spine" preset page: studies and models, preset values, the CT view with C1..C7, the vertebra table, run, export and score. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { loadedSeries, currentLabels } from './cache';
import { ErrorBoundary } from '../ErrorBoundary';
import { Header } from '../Header';
import { MessageBanner, MessageLog, StatusLine } from '../MessageBanner';
import { pickedFiles, walkEntries } from '../motors/load';
import { addFiles, cancelSpine, masksNifti, runSpine, submissionText } from './actions';
import { beginEdit, choosePen, endEdit } from './editing';
import { InputsPanel, StudiesPanel } from './InputsPanel';
import { ParamsPanel } from './ParamsPanel';
import { SpineRunPanel } from './RunPanel';
import { ScorePanel } from './ScorePanel';
import { SpineView } from './SpineView';
import { useSpine } from './state';
import { VertebraTable } from './VertebraTable';
import '../motors/motors.css';
import './spine.css';

/** Test handles: the store, the exact submission text, a series' CT grid, masks NIfTI bytes and labels as held. */
export interface SpineHooks {
  store: typeof useSpine;
  submission: () => string;
  ct: (key: string) => { shape: number[]; affine: number[][]; spacing: number[]; min: number; max: number; sum: number } | null;
  masks: (key: string, corrected: boolean) => { bytes: Uint8Array; name: string } | null;
  labels: (key: string) => Uint8Array | null;
  edit: { begin: typeof beginEdit; pen: typeof choosePen; end: typeof endEdit };
}

declare global {
  interface Window {
    __voxelbenchSpine?: SpineHooks;
  }
}

export function exposeSpineHooks(): void {
  window.__voxelbenchSpine = {
    store: useSpine,
    submission: submissionText,
    ct: (key) => {
      const s = loadedSeries(key);
      if (!s) return null;
      const d = s.volume.data;
      let [min, max, sum] = [Infinity, -Infinity, 0];
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      return { shape: [...s.volume.shape], affine: s.volume.affine.map((r) => [...r]), spacing: [...s.volume.spacing], min, max, sum };
    },
    masks: masksNifti,
    labels: (key) => currentLabels(key) ?? null,
    edit: { begin: beginEdit, pen: choosePen, end: endEdit },
  };
}

const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');

/** The whole page takes dropped folders and files; folders are walked (each folder of DICOM files = one study source). */
function SpineDropZone({ children }: { children: ReactNode }) {
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
            <div>DICOM study folders (one or many) · .nii / .nii.gz CT · .onnx models and their .json cards · labels .csv</div>
          </div>
        </div>
      )}
    </div>
  );
}

function useSpineKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') cancelSpine();
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        (document.activeElement as HTMLElement | null)?.blur?.(); // commit a half-typed field first
        void runSpine();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function SpineApp() {
  useEffect(exposeSpineHooks, []);
  useSpineKeys();
  return (
    <SpineDropZone>
      <div className="app spine-app" data-testid="spine-app">
        <Header />
        <MessageBanner />
        <main className="layout spine-layout">
          <aside className="sidebar">
            <ErrorBoundary what="the inputs panel">
              <InputsPanel />
              <StudiesPanel />
              <ParamsPanel />
            </ErrorBoundary>
          </aside>
          <div className="spine-centre">
            <ErrorBoundary what="the viewer">
              <SpineView />
            </ErrorBoundary>
            <ErrorBoundary what="the vertebra table">
              <VertebraTable />
            </ErrorBoundary>
          </div>
          <aside className="sidebar">
            <ErrorBoundary what="the run panel">
              <SpineRunPanel />
              <ScorePanel />
              <MessageLog />
            </ErrorBoundary>
          </aside>
        </main>
        <StatusLine />
      </div>
    </SpineDropZone>
  );
}
