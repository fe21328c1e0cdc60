import { relaxModel } from './actions';
import { useKit } from './kit/hooks';
import type { AnyStore } from './kit/types';
import { useStore, type Message } from './store';

function ActionButton({ m }: { m: Message }) {
  const busy = useStore((s) => s.busy !== null);
  if (m.action === 'relax-dims') {
    return (
      <button className="small-btn" onClick={() => void relaxModel()} disabled={busy} data-testid="relax-dims-prompt">
        Make spatial dims symbolic
      </button>
    );
  }
  return null;
}

/** Errors and warnings that need attention, newest first, each dismissable. */
export function MessageBanner() {
  const messages = useStore((s) => s.messages);
  const dismiss = useStore((s) => s.dismissMessage);
  const shown = messages.filter((m) => m.level !== 'info').slice(-3).reverse();
  if (shown.length === 0) return null;
  return (
    <div className="banner" role="alert" data-testid="banner">
      {shown.map((m) => (
        <div key={m.id} className={`banner-item ${m.level}`} data-testid={`message-${m.level}`}>
          <span className="banner-icon">{m.level === 'error' ? '✕' : '!'}</span>
          <span className="banner-text">{m.text}</span>
          <ActionButton m={m} />
          <button className="ghost icon" onClick={() => dismiss(m.id)} aria-label="Dismiss" title="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/** Every message of the session, for reference. */
export function MessageLog() {
  const messages = useStore((s) => s.messages);
  const clear = useStore((s) => s.clearMessages);
  return (
    <details className="log" data-testid="log">
      <summary>
        Log <span className="muted">({messages.length})</span>
      </summary>
      <div className="log-body">
        {messages.length === 0 && <div className="muted">Nothing yet.</div>}
        {[...messages].reverse().map((m) => (
          <div key={m.id} className={`log-item ${m.level}`}>
            <span className="log-time">{new Date(m.time).toLocaleTimeString()}</span> {m.text}
          </div>
        ))}
        {messages.length > 0 && (
          <button className="link" onClick={() => clear()}>
            clear
          </button>
        )}
      </div>
    </details>
  );
}

/**
 * One line at the bottom of the page: what is going on, else the latest message, else the page's
 * standing problem (a failed run, items in error: shown in their panels, not as messages), and
 * "Ready." only when there is none.
 */
function StatusText({ problem }: { problem: string | null }) {
  const last = useStore((s) => s.messages[s.messages.length - 1]);
  const busy = useStore((s) => s.busy);
  const text = busy ? (
    <span className="spinner-text">{busy}</span>
  ) : last ? (
    <span className={last.level}>{last.text}</span>
  ) : problem ? (
    <span className="error">{problem}</span>
  ) : (
    <span className="muted">Ready.</span>
  );
  return (
    <footer className="statusline" data-testid="statusline" title={busy ?? last?.text ?? problem ?? undefined}>
      {text}
    </footer>
  );
}

/** The workbench's status line (its problem: the failed run). */
export function StatusLine() {
  const runError = useStore((s) => (s.runState.status === 'error' ? (s.runState.error ?? 'unknown error') : null));
  return <StatusText problem={runError ? `Run failed: ${runError}` : null} />;
}

/** A kit page's status line (its problem: the items in error). */
export function KitStatusLine({ store }: { store: AnyStore }) {
  const { item, items: itemsText } = store.config.texts;
  const problem = useKit(store, (s) => {
    const bad = s.items.filter((t) => t.status === 'error' || t.loadFailed);
    if (bad.length === 0) return null;
    const first = `${bad[0].id}: ${bad[0].error ?? 'failed'}`;
    return bad.length === 1 ? `One ${item} failed: ${first}` : `${bad.length} ${itemsText} failed (${first})`;
  });
  return <StatusText problem={problem} />;
}
