/** The "Protein localisation" preset page: RGBY fields of view in, probabilities, CAM, per-cell labels and cells.csv out. */
import { useEffect } from 'react';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { PageLayout } from '../PageLayout';
import { addFiles, cancelProtein, cellsCsvText, proteinMetric, runProtein, submissionText } from './actions';
import { AllImagesTable, CellTable, FovListPanel, ProbabilityChart, ProteinInputsPanel, ProteinParamsPanel, ProteinRunPanel } from './panels';
import { ProteinView } from './ProteinView';
import { useProtein } from './state';
import './protein.css';

declare global {
  interface Window {
    /** Test handles: the protein store, the exact per-cell CSV and submission texts, the metric. */
    __voxelbenchProtein?: { store: typeof useProtein; cellsCsv: () => string; submission: () => string; metric: typeof proteinMetric };
  }
}

export function exposeProteinHooks(): void {
  window.__voxelbenchProtein = { store: useProtein, cellsCsv: cellsCsvText, submission: submissionText, metric: proteinMetric };
}

export function ProteinApp() {
  useEffect(exposeProteinHooks, []);
  useRunKeys(runProtein, cancelProtein);
  return (
    <FileDrop onFiles={(files) => void addFiles(files)} hint="<id>_red/green/blue/yellow.png sets (8/16-bit) · 4-channel .tif · <id>_cells.png masks · .onnx models · model card .json · cell_labels.csv">
      <PageLayout
        className="protein-app"
        layoutClassName="protein-layout"
        testId="protein-app"
        inputs={
          <>
            <ProteinInputsPanel />
            <FovListPanel />
            <ProteinParamsPanel />
          </>
        }
        view={
          <div className="protein-centre">
            <ErrorBoundary what="the image view">
              <ProteinView />
            </ErrorBoundary>
            <ErrorBoundary what="the cell table">
              <CellTable />
              <AllImagesTable />
            </ErrorBoundary>
          </div>
        }
        run={
          <>
            <ProteinRunPanel />
            <ProbabilityChart />
          </>
        }
      />
    </FileDrop>
  );
}
