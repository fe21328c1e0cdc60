import type { MouseEvent } from 'react';
import { FileButtons } from './FileButtons';
import { ShareMenu } from './share/ShareMenu';
import { focusGallery } from './share/Gallery';
import { PRESETS, switchPreset } from './presets';
import { useStore } from './store';

/** The landing page's first Tab stop: straight to the demo gallery (shown only when focused). */
function SkipToGallery() {
  const onClick = (e: MouseEvent) => {
    e.preventDefault();
    focusGallery();
  };
  return (
    <a className="skip-link" href="#gallery" onClick={onClick} data-testid="skip-to-gallery" data-layout-skip>
      Skip to the demo gallery
    </a>
  );
}

/**
 * Title, the page switch, the workbench's open buttons, Share and a compact runtime summary. The
 * demos are in the gallery (the landing page) and each page's empty view, not here; the bar wraps
 * onto a second line on narrow windows rather than running off the screen.
 */
export function Header() {
  const rt = useStore((s) => s.runtime);
  const preset = useStore((s) => s.preset);
  const landing = useStore((s) => s.preset === 'workbench' && !s.volume);
  return (
    <header className="topbar">
      {landing && <SkipToGallery />}
      <div className="brand">
        <span className="logo" aria-hidden>
          ▦
        </span>
        <span className="brand-name">Voxelbench</span>
      </div>
      <nav className="seg preset-switch" aria-label="Preset">
        {PRESETS.map((p) => (
          <button key={p.id} className={preset === p.id ? 'on' : ''} aria-current={preset === p.id ? 'page' : undefined} onClick={() => switchPreset(p.id)} title={p.title} data-testid={`preset-${p.id}`}>
            {p.label}
          </button>
        ))}
      </nav>
      {preset === 'workbench' && (
        <div className="topbar-actions">
          <FileButtons />
        </div>
      )}
      <div className="topbar-right small">
        <ShareMenu />
        {rt ? (
          <>
            <span className={`pill ${rt.webgpu.available ? 'ok' : 'off'}`} title={rt.webgpu.available ? rt.webgpu.adapter : rt.webgpu.reason}>
              WebGPU {rt.webgpu.available ? 'on' : 'off'}
            </span>
            <span className={`pill ${rt.crossOriginIsolated ? 'ok' : 'off'}`} title="Cross-origin isolation enables WASM threads">
              WASM ×{rt.threads}
            </span>
          </>
        ) : (
          <span className="muted">starting runtime…</span>
        )}
        <span className="muted topbar-local">everything runs locally</span>
      </div>
    </header>
  );
}
