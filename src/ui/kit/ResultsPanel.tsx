/**
 * The score and the downloads of a kit page: the preset's metric of the finished rows against the
 * labels (`labels.metric`: its score large, its lines under it) and one button per export of the
 * preset (submission.csv, cells.csv), written from the same rows.
 */
import type { ReactNode } from 'react';
import { Panel } from '../Panel';
import { useFinishedRows, useKit, useMetric } from './hooks';
import { downloadExport } from './runner';
import type { AnyStore } from './types';

export interface ResultsPanelProps {
  store: AnyStore;
  title: string;
  testId: string;
  metric: {
    /** The block's test id and the score's. */
    testId: string;
    valueTestId: string;
    digits: number;
  };
  /** Test ids of the export buttons, in the preset's order of its exports. */
  exportIds: readonly string[];
  children?: ReactNode;
}

export function ResultsPanel({ store, title, testId, metric: ids, exportIds, children }: ResultsPanelProps) {
  const rows = useFinishedRows(store);
  const labels = useKit(store, (s) => s.labels);
  const report = useMetric(store);
  const { preset } = store;
  const lines = report?.lines ?? [];
  return (
    <Panel title={title} testId={testId}>
      {children}
      {report ? (
        <div className="kit-metric" data-testid={ids.testId}>
          <div className="kit-metric-value" data-testid={ids.valueTestId} title={`${report.name}, ${report.lowerIsBetter ? 'lower' : 'higher'} is better`}>
            {Number.isFinite(report.score) ? report.score.toFixed(ids.digits) : '–'}
          </div>
          <div className="muted small">{lines[lines.length - 1] ?? report.name}</div>
          {lines.length > 1 && (
            <details className="small">
              <summary className="muted">details</summary>
              <pre className="kit-metric-lines">{lines.slice(0, -1).join('\n')}</pre>
            </details>
          )}
        </div>
      ) : (
        preset.labels && (
          <div className="muted small">
            {labels ? `Run to score against ${labels.name}.` : `Add ${preset.labels.label} (.csv) for the ${preset.info.metric ? 'metric' : 'score'}.`}
          </div>
        )
      )}
      <div className="row kit-exports">
        {preset.exports.map((exp, i) => (
          <button key={exp.file} onClick={() => downloadExport(store, i)} disabled={rows.length === 0} data-testid={exportIds[i]} title={`Download ${exp.file}`}>
            {exp.label}
          </button>
        ))}
      </div>
    </Panel>
  );
}
