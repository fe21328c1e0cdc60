/** The frame every page shares: header, message banner, inputs | view | run columns, message log, status line. */
import type { ReactNode } from 'react';
import { ErrorBoundary } from './ErrorBoundary';
import { Header } from './Header';
import { MessageBanner, MessageLog, StatusLine } from './MessageBanner';

export interface PageLayoutProps {
  /** Extra class on the page (e.g. 'motors-app') and on the three-column layout. */
  className?: string;
  layoutClassName?: string;
  testId?: string;
  /** Left column: inputs and settings. */
  inputs: ReactNode;
  /** Centre: the view (and tables under it). */
  view: ReactNode;
  /** Right column: run, results; the message log follows. */
  run: ReactNode;
  /** The status line (default: the workbench's; kit pages pass KitStatusLine with their store). */
  statusLine?: ReactNode;
}

export function PageLayout({ className = '', layoutClassName = '', testId, inputs, view, run, statusLine }: PageLayoutProps) {
  return (
    <div className={`app ${className}`.trim()} data-testid={testId}>
      <Header />
      <MessageBanner />
      <main className={`layout ${layoutClassName}`.trim()}>
        <aside className="sidebar">
          <ErrorBoundary what="the inputs panel">{inputs}</ErrorBoundary>
        </aside>
        <ErrorBoundary what="the viewer">{view}</ErrorBoundary>
        <aside className="sidebar">
          <ErrorBoundary what="the run panel">
            {run}
            <MessageLog />
          </ErrorBoundary>
        </aside>
      </main>
      {statusLine ?? <StatusLine />}
    </div>
  );
}
