import type { ReactNode } from 'react';

/** A titled sidebar section. */
export function Panel({ title, extra, children, testId }: { title: string; extra?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="panel" data-testid={testId}>
      <header className="panel-head">
        <h2>{title}</h2>
        {extra}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

/** Label/value rows. */
export function KV({ rows, wide }: { rows: [ReactNode, ReactNode][]; wide?: boolean }) {
  return (
    <dl className={`kv ${wide ? 'kv-wide' : ''}`}>
      {rows.map(([k, v], i) => (
        <div key={i} className="kv-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
