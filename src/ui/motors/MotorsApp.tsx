/** The "Flagellar motors" preset page: inputs and queue, preset values, view and detections, run and scores. */
import { useEffect } from 'react';
import { FileDrop, useRunKeys } from '../FileDrop';
import { ErrorBoundary } from '../ErrorBoundary';
import { PageLayout } from '../PageLayout';
import { addFiles, cancelMotors, ensureLoaded, runMotors, submissionText } from './actions';
import { InputsPanel, QueuePanel } from './InputsPanel';
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

export function MotorsApp() {
  useEffect(exposeMotorsHooks, []);
  useRunKeys(runMotors, cancelMotors);
  return (
    <FileDrop
      onFiles={(files, emptyFolders) => void addFiles(files, emptyFolders)}
      hint="folders of slices (one per tomogram) · .mrc / .rec / .tif · .onnx models · labels .csv · model card .json"
    >
      <PageLayout
        className="motors-app"
        layoutClassName="motors-layout"
        testId="motors-app"
        inputs={
          <>
            <InputsPanel />
            <QueuePanel />
            <ParamsPanel />
          </>
        }
        view={
          <div className="motors-centre">
            <ErrorBoundary what="the viewer">
              <MotorsView />
            </ErrorBoundary>
            <ErrorBoundary what="the detections table">
              <ResultsTable />
            </ErrorBoundary>
          </div>
        }
        run={
          <>
            <MotorsRunPanel />
            <ScorePanel />
          </>
        }
      />
    </FileDrop>
  );
}
