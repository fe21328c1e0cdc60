/** The dialog a link with files on other sites opens before anything is fetched (./consent.ts). */
import { useEffect, useRef, useState } from 'react';
import { useConsentStore } from './consent';

export function LinkConsent() {
  const request = useConsentStore((s) => s.request);
  const [trust, setTrust] = useState(false);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    setTrust(false);
    const d = ref.current;
    if (!d) return;
    if (request && !d.open) d.showModal();
    if (!request && d.open) d.close();
  }, [request]);
  if (!request) return null;
  const { hosts } = request;
  const one = hosts.length === 1;
  const files = hosts.reduce((n, h) => n + h.files.length, 0);
  return (
    <dialog
      ref={ref}
      className="consent"
      aria-labelledby="consent-title"
      data-testid="link-consent"
      // Escape cancels
      onCancel={(e) => {
        e.preventDefault();
        request.answer({ load: false, trust: false });
      }}
    >
      <div className="consent-title" id="consent-title">
        This link loads {files === 1 ? 'a file' : `${files} files`} from {one ? 'another site' : `${hosts.length} other sites`}
      </div>
      <ul className="consent-hosts">
        {hosts.map((h) => (
          <li key={h.origin} data-testid="consent-host">
            <span className="consent-host mono">{h.host}</span>
            <ul className="consent-files">
              {h.files.map((f) => (
                <li key={f} className="mono" data-testid="consent-file">
                  {f}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
      <div className="small muted">Nothing has been downloaded yet. Models and data run in this browser only; load files only from sites you trust.</div>
      <label className="consent-trust small">
        <input type="checkbox" checked={trust} onChange={(e) => setTrust(e.target.checked)} data-testid="consent-trust" /> Trust {one ? hosts[0].host : 'these sites'} from now on (their links open without asking)
      </label>
      <div className="share-row consent-buttons">
        <button onClick={() => request.answer({ load: false, trust: false })} data-testid="consent-cancel">
          Cancel
        </button>
        <button className="primary" onClick={() => request.answer({ load: true, trust })} data-testid="consent-load" autoFocus>
          Load
        </button>
      </div>
    </dialog>
  );
}
