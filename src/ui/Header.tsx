import { FileButtons } from './FileButtons';
import { ShareMenu } from './share/ShareMenu';
import { openDemo, PRESETS, switchPreset } from './presets';
import { useStore } from './store';

/** Title, open buttons, the demo, and a compact runtime summary. */
export function Header() {
  const empty = useStore((s) => !s.volume && !s.model);
  const busy = useStore((s) => s.busy !== null || s.runState.status === 'running');
  const rt = useStore((s) => s.runtime);
  const preset = useStore((s) => s.preset);
  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo" aria-hidden>
          ▦
        </span>
        Voxelbench
      </div>
      <div className="seg preset-switch" role="group" aria-label="Preset">
        {PRESETS.map((p) => (
          <button key={p.id} className={preset === p.id ? 'on' : ''} onClick={() => switchPreset(p.id)} title={p.title} data-testid={`preset-${p.id}`}>
            {p.label}
          </button>
        ))}
      </div>
      <div className="topbar-actions">
        {preset === 'workbench' && <FileButtons />}
        <button
          className={empty && preset === 'workbench' ? 'primary' : ''}
          onClick={() => openDemo(PRESETS[0])}
          disabled={busy}
          data-testid="try-demo"
          title={PRESETS[0].demo?.title}
        >
          Try the demo
        </button>
        {PRESETS.slice(1).map((p) =>
          p.demo ? (
            <button key={p.id} onClick={() => openDemo(p)} data-testid={`${p.demo.name}-demo`} title={p.demo.title}>
              {p.demo.label}
            </button>
          ) : null,
        )}
        <ShareMenu />
      </div>
      <div className="topbar-right small">
        {rt ? (
          <>
            <span
              className={`pill ${rt.webgpu.available ? (rt.webgpu.software ? 'off' : 'ok') : 'off'}`}
              title={rt.webgpu.available ? `${rt.webgpu.adapter}${rt.webgpu.software ? `: ${rt.webgpu.software}; auto runs on WASM` : ''}` : rt.webgpu.reason}
              data-testid="webgpu-pill"
            >
              WebGPU {rt.webgpu.available ? (rt.webgpu.software ? 'software' : 'on') : 'off'}
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
