/** The "EEG spectrogram" preset page: inputs and preset values, spectrogram with CAM and results, run and score. */
import { useEffect } from 'react';
import { FileDrop, useRunKeys } from '../FileDrop';
import { PageLayout } from '../PageLayout';
import { addEegFiles, cancelEeg, eegSubmissionText, runEeg } from './actions';
import { EegView } from './EegView';
import { EegInputsPanel, EegParamsPanel, EegRunPanel, EegScorePanel } from './Panels';
import { useEeg } from './state';
import './eeg.css';

declare global {
  interface Window {
    /** Test handles: the EEG store and the exact submission text. */
    __voxelbenchEeg?: { store: typeof useEeg; submission: () => string };
  }
}

export function EegApp() {
  useEffect(() => {
    window.__voxelbenchEeg = { store: useEeg, submission: eegSubmissionText };
  }, []);
  useRunKeys(runEeg, cancelEeg);
  return (
    <FileDrop onFiles={(files) => void addEegFiles(files)} hint="HMS spectrogram .parquet files · .onnx models (folds) · votes .csv">
      <PageLayout
        className="eeg-app"
        layoutClassName="eeg-layout"
        testId="eeg-app"
        inputs={
          <>
            <EegInputsPanel />
            <EegParamsPanel />
          </>
        }
        view={<EegView />}
        run={
          <>
            <EegRunPanel />
            <EegScorePanel />
          </>
        }
      />
    </FileDrop>
  );
}
