/** The "Cervical spine" preset page: studies and models, preset values, the CT view with C1..C7, the vertebra table, run, export and score. */
import { useEffect } from 'react';
import { loadedSeries, currentLabels } from './cache';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { PageLayout } from '../PageLayout';
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

export function SpineApp() {
  useEffect(exposeSpineHooks, []);
  useRunKeys(runSpine, cancelSpine);
  return (
    <FileDrop
      onFiles={(files, emptyFolders) => void addFiles(files, emptyFolders)}
      hint="DICOM study folders (one or many) · .nii / .nii.gz CT · .onnx models and their .json cards · labels .csv"
    >
      <PageLayout
        className="spine-app"
        layoutClassName="spine-layout"
        testId="spine-app"
        inputs={
          <>
            <InputsPanel />
            <StudiesPanel />
            <ParamsPanel />
          </>
        }
        view={
          <div className="spine-centre">
            <ErrorBoundary what="the viewer">
              <SpineView />
            </ErrorBoundary>
            <ErrorBoundary what="the vertebra table">
              <VertebraTable />
            </ErrorBoundary>
          </div>
        }
        run={
          <>
            <SpineRunPanel />
            <ScorePanel />
          </>
        }
      />
    </FileDrop>
  );
}
