import { useEffect } from 'react';
import { cancel, fetchRuntime, recoverWorkbench, run } from './actions';
import { watchWorkerFaults } from './kit/recovery';
import { DropZone } from './DropZone';
import { ErrorBoundary } from './ErrorBoundary';
import { useRunKeys } from './FileDrop';
import { ModelPanel } from './ModelPanel';
import { NiivueView } from './NiivueView';
import { PageLayout } from './PageLayout';
import { ResultPanel } from './ResultPanel';
import { RunPanel } from './RunPanel';
import { presetEntry, presetFromUrl, startFromUrl } from './presets';
import { useStore } from './store';
import { exposeTestHooks } from './testHooks';
import { VolumePanel } from './VolumePanel';
import { WindowSettings } from './WindowSettings';

// a preset asked for by the address shows from the first render (no workbench view mounted for nothing)
presetFromUrl(new URLSearchParams(window.location.search));

/** Once per page (React StrictMode mounts effects twice in development). */
function startOnce(): void {
  if (useStore.getState().started) return;
  useStore.setState({ started: true });
  exposeTestHooks();
  // a worker that dies is replaced and given the model again (recoverWorkbench)
  watchWorkerFaults(useStore, recoverWorkbench);
  void fetchRuntime();
  startFromUrl(new URLSearchParams(window.location.search));
}

export function App() {
  useEffect(startOnce, []);
  // presets have their own keys
  useRunKeys(run, cancel, () => useStore.getState().preset === 'workbench');
  const preset = useStore((s) => s.preset);
  const Page = presetEntry(preset).Page;
  if (Page) {
    return (
      <ErrorBoundary>
        <Page />
      </ErrorBoundary>
    );
  }
  return (
    <ErrorBoundary>
      <DropZone>
        <PageLayout
          inputs={
            <>
              <VolumePanel />
              <ModelPanel />
              <WindowSettings />
            </>
          }
          view={<NiivueView />}
          run={
            <>
              <RunPanel />
              <ResultPanel />
            </>
          }
        />
      </DropZone>
    </ErrorBoundary>
  );
}
