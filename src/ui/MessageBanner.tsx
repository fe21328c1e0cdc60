import { relaxModel } from './actions';
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

/** The latest message in one line at the bottom of the page. */
export function StatusLine() {
  const last = useStore((s) => s.messages[s.messages.length - 1]);
  const busy = useStore((s) => s.busy);
  return (
    <footer className="statusline" data-testid="statusline">
      {busy ? <span className="spinner-text">{busy}</span> : last ? <span className={last.level}>{last.text}</span> : <span className="muted">Ready.</span>}
    </footer>
  );
}
