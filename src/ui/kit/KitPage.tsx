/**
 * The one page shell of every preset page: the whole-page file drop (into the page's intake),
 * Ctrl+Enter / Esc (run / cancel the batch), the page's test hooks set once it is shown, and the
 * three columns (inputs | view | run) of PageLayout, classed and test-id'd after the page's name
 * ('eeg-app', 'eeg-layout', the centre 'eeg-centre'). The left column is the kit's inputs panel,
 * queue and values form; the right one the kit's run panel and the page's results; the centre the
 * page's own view parts.
 */
import { useEffect, type ReactNode } from 'react';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { KitStatusLine } from '../MessageBanner';
import { PageLayout } from '../PageLayout';
import { InputsPanel, type InputsPanelProps } from './InputsPanel';
import { addFiles } from './intake';
import { useWorkerRecovery } from './recovery';
import { QueuePanel, RunPanel, type QueuePanelProps, type RunPanelProps } from './panels';
import { ParamsForm, type ParamsFormProps } from './ParamsForm';
import { cancelBatch, runBatch } from './runner';
import type { AnyStore } from './types';

type Without<P> = Omit<P, 'store' | 'prefix'>;

export interface KitPageProps {
  store: AnyStore;
  /** 'eeg': classes 'eeg-app' and 'eeg-layout', test id 'eeg-app'. */
  name: string;
  /** Test id prefix of the queue and the run panel ('motor': 'motor-run'…). */
  prefix: string;
  /** The centre column's class (default `${name}-centre`; 'kit-centre': the view over a results table). */
  centreClassName?: string;
  /** What Esc does (default: cancel the batch). */
  cancel?(): void;
  /** Sets the page's window.__voxelbench<Page> test hooks. */
  exposeHooks?(): void;
  /** The inputs panel: open buttons, models, labels (children: what the page adds under them). */
  inputs: Omit<InputsPanelProps, 'store'>;
  queue: Without<QueuePanelProps>;
  params: Omit<ParamsFormProps, 'store'>;
  /** Under the values form (notes on the pipeline). */
  notes?: ReactNode;
  /** The centre column's parts, top to bottom, each as [what it is, its content] (a part that fails says so in its place). */
  view: readonly (readonly [string, ReactNode])[];
  run?: Without<RunPanelProps>;
  /** Under the run panel: scores, exports, downloads. */
  results: ReactNode;
}

export function KitPage({ store, name, prefix, centreClassName = `${name}-centre`, cancel, exposeHooks, inputs, queue, params, notes, view, run = {}, results }: KitPageProps) {
  useEffect(() => exposeHooks?.(), [exposeHooks]);
  // a worker that dies is replaced and given its models again (./recovery.ts)
  useWorkerRecovery(store);
  useRunKeys(
    () => runBatch(store),
    () => (cancel ? cancel() : cancelBatch(store)),
  );
  return (
    <FileDrop onFiles={(files, emptyFolders) => void addFiles(store, files, emptyFolders)} hint={store.preset.inputs.hint}>
      <PageLayout
        className={`${name}-app`}
        layoutClassName={`${name}-layout`}
        testId={`${name}-app`}
        inputs={
          <>
            <InputsPanel store={store} {...inputs} />
            <QueuePanel store={store} prefix={prefix} {...queue} />
            <ParamsForm store={store} {...params} />
            {notes}
          </>
        }
        view={
          <div className={centreClassName}>
            {view.map(([what, node]) => (
              <ErrorBoundary key={what} what={what}>
                {node}
              </ErrorBoundary>
            ))}
          </div>
        }
        run={
          <>
            <RunPanel store={store} prefix={prefix} {...run} />
            {results}
          </>
        }
        statusLine={<KitStatusLine store={store} />}
      />
    </FileDrop>
  );
}
