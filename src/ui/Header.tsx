import { loadDemo } from './actions';
import { FileButtons } from './FileButtons';
import { useStore } from './store';

/** Title, open buttons, the demo, and a compact runtime summary. */
export function Header() {
  const empty = useStore((s) => !s.volume && !s.model);
  const busy = useStore((s) => s.busy !== null || s.runState.status === 'running');
  const rt = useStore((s) => s.runtime);
  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo" aria-hidden>
          ▦
        </span>
        Voxelbench
      </div>
      <div className="topbar-actions">
        <FileButtons />
        <button className={empty ? 'primary' : ''} onClick={() => void loadDemo()} disabled={busy} data-testid="try-demo" title="MeshNet brain tissue segmentation on a T1 scan">
          Try the demo
        </button>
      </div>
      <div className="topbar-right small">
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
        <span className="muted">everything runs locally</span>
      </div>
    </header>
  );
}
