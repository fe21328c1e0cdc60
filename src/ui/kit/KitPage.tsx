/**
 * The frame of a kit page: the whole-page file drop (into the page's intake), Ctrl+Enter / Esc
 * (run / cancel the batch), the page's test hooks set once it is shown, and the three columns
 * (inputs | view | run) of PageLayout, classed and test-id'd after the page's name ('eeg-app',
 * 'eeg-layout', the centre 'eeg-centre').
 */
import { useEffect, type ReactNode } from 'react';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { KitStatusLine } from '../MessageBanner';
import { PageLayout } from '../PageLayout';
import { addFiles } from './intake';
import { cancelBatch, runBatch } from './runner';
import type { AnyStore } from './types';

export interface KitPageProps {
  store: AnyStore;
  /** 'eeg': classes 'eeg-app' and 'eeg-layout', test id 'eeg-app'. */
  name: string;
  /** Sets the page's window.__voxelbench<Page> test hooks. */
  exposeHooks?(): void;
  inputs: ReactNode;
  /** The centre column's parts, top to bottom, each as [what it is, its content] (a part that fails says so in its place). */
  view: readonly (readonly [string, ReactNode])[];
  run: ReactNode;
}

export function KitPage({ store, name, exposeHooks, inputs, view, run }: KitPageProps) {
  useEffect(() => exposeHooks?.(), [exposeHooks]);
  useRunKeys(
    () => runBatch(store),
    () => cancelBatch(store),
  );
  return (
    <FileDrop onFiles={(files, emptyFolders) => void addFiles(store, files, emptyFolders)} hint={store.preset.inputs.hint}>
      <PageLayout
        className={`${name}-app`}
        layoutClassName={`${name}-layout`}
        testId={`${name}-app`}
        inputs={inputs}
        view={
          <div className={`${name}-centre`}>
            {view.map(([what, node]) => (
              <ErrorBoundary key={what} what={what}>
                {node}
              </ErrorBoundary>
            ))}
          </div>
        }
        run={run}
        statusLine={<KitStatusLine store={store} />}
      />
    </FileDrop>
  );
}
