/**
 * The header's "Share" menu, the same on every page: Copy link (or why there is none, with the
 * session file offered instead), Save / Open session, a URL to open, and the offline cache.
 */
import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { isFetchableUrl } from '../../core/share/query';
import { SESSION_EXT } from '../../core/share/session';
import { presetEntry, PRESETS, switchPreset } from '../presets';
import { useStore } from '../store';
import { cacheUsage, clearCaches, fetchUrl, type CacheUsage } from './cache';
import { LinkConsent } from './LinkConsent';
import { currentLink, linkOpened, sceneValues, type LinkInfo } from './link';
import { cacheLoaded, offlineReady } from './offline';
import { openSessionFile, saveSessionFile } from './sessionFile';

const fmtBytes = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`);

declare global {
  interface Window {
    /** Test handles of the share module. */
    __voxelbenchShare?: {
      link(): LinkInfo;
      values(): Record<string, unknown>;
      scene(): Record<string, unknown>;
      runCount(): number;
      linkOpened(): Promise<void>;
      cacheLoaded(): Promise<{ cached: number; failed: number }>;
      offlineReady(): boolean;
    };
  }
}

export function exposeShareHooks(): void {
  const entry = () => presetEntry(useStore.getState().preset);
  window.__voxelbenchShare = {
    link: () => currentLink(entry()),
    values: () => entry().share?.values() ?? {},
    scene: sceneValues,
    runCount: () => entry().share?.runCount() ?? 0,
    linkOpened,
    cacheLoaded: () => cacheLoaded(),
    offlineReady,
  };
}

export function openSession(file: File): Promise<void> {
  return openSessionFile(file, PRESETS, (e) => switchPreset(e.id));
}

/** Opens a typed URL on the current page: .onnx as a model, .csv as labels, anything else as data. */
async function openTypedUrl(url: string): Promise<void> {
  const entry = presetEntry(useStore.getState().preset);
  const { addMessage } = useStore.getState();
  if (!entry.share) return;
  if (!isFetchableUrl(url)) {
    addMessage('error', `"${url}" is not an http(s) address.`, { key: 'share-url' });
    return;
  }
  const urls = /\.onnx(\?|$)/i.test(url) ? { models: [url], data: [] } : /\.(csv|json|txt)(\?|$)/i.test(url) ? { models: [], data: [], labels: url } : { models: [], data: [url] };
  await entry.share.load(urls, fetchUrl);
}

export function ShareMenu() {
  const [open, setOpen] = useState(false);
  const [link, setLink] = useState<LinkInfo | null>(null);
  const [copied, setCopied] = useState(false);
  const [usage, setUsage] = useState<CacheUsage | null>(null);
  const [typed, setTyped] = useState('');
  const preset = useStore((s) => s.preset);
  const busy = useStore((s) => s.busy !== null);
  const fileRef = useRef<HTMLInputElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const entry = presetEntry(preset);

  // a slow count that started before Clear must not overwrite the count made after it: only the latest applies
  const usageSeq = useRef(0);
  const refreshUsage = () => {
    const seq = ++usageSeq.current;
    const apply = (u: CacheUsage | null) => {
      if (seq === usageSeq.current) setUsage(u);
    };
    void cacheUsage().then(apply).catch(() => apply(null));
  };
  useEffect(() => {
    if (!open) return;
    setLink(currentLink(entry));
    setCopied(false);
    refreshUsage();
    const close = (e: MouseEvent) => {
      if (boxRef.current && !boxRef.current.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    window.addEventListener('mousedown', close);
    window.addEventListener('keydown', esc);
    return () => {
      window.removeEventListener('mousedown', close);
      window.removeEventListener('keydown', esc);
    };
  }, [open, entry]);

  const copy = async () => {
    const info = currentLink(entry);
    setLink(info);
    if (!info.url) return;
    try {
      await navigator.clipboard.writeText(info.url);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard permission: the link is shown selected to copy by hand
    }
  };
  const onPick = (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    e.target.value = '';
    if (f) {
      setOpen(false);
      void openSession(f);
    }
  };

  return (
    <div className="share" ref={boxRef}>
      <button onClick={() => setOpen(!open)} aria-expanded={open} data-testid="share-menu" title="Copy a link, save or open a session, offline cache">
        Share ▾
      </button>
      <LinkConsent />
      <input ref={fileRef} type="file" hidden accept={`${SESSION_EXT},.zip`} onChange={onPick} data-testid="session-input" />
      {open && (
        <div className="share-pop" role="dialog" aria-label="Share">
          <div className="share-row">
            <button className="primary" onClick={() => void copy()} disabled={!entry.share} data-testid="copy-link">
              Copy link
            </button>
            {copied && <span className="ok-text small" data-testid="link-copied">copied</span>}
          </div>
          {link?.url && <input className="share-link mono" readOnly value={link.url} onFocus={(e) => e.target.select()} data-testid="share-link" aria-label="share link" />}
          {link?.problem && (
            <div className="small warn-text" data-testid="share-problem">
              {link.problem}
            </div>
          )}
          <div className="share-row">
            <button onClick={() => void saveSessionFile(entry)} disabled={!entry.share || busy} data-testid="save-session" className={link?.offerSession ? 'primary' : ''}>
              Save session
            </button>
            <button onClick={() => fileRef.current?.click()} disabled={busy} data-testid="open-session">
              Open session…
            </button>
          </div>
          <form
            className="share-row"
            onSubmit={(e) => {
              e.preventDefault();
              if (typed.trim()) void openTypedUrl(typed.trim());
            }}
          >
            <input className="share-url" placeholder="https://…/model.onnx or data URL" value={typed} onChange={(e) => setTyped(e.target.value)} data-testid="open-url" aria-label="URL to open" />
            <button type="submit" disabled={!entry.share || busy || !typed.trim()}>
              Open URL
            </button>
          </form>
          <div className="share-row small muted" data-testid="cache-info">
            <span>
              Offline cache: <span data-testid="cache-size">{usage ? `${fmtBytes(usage.bytes)} in ${usage.entries} files` : '…'}</span>
              {offlineReady() ? '' : ' (no service worker yet)'}
            </span>
            <button
              className="ghost"
              onClick={() => {
                usageSeq.current++; // drop any count in flight
                void clearCaches().then(refreshUsage);
              }}
              data-testid="clear-cache"
              title="Delete the cached app, demo files and downloaded models and data"
            >
              Clear
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
