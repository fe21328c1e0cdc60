import { loadDemo } from './actions';
import { FileButtons } from './FileButtons';
import { openMotorsDemo, switchPreset } from './motors/preset';
import { useStore, type PresetId } from './store';

const PRESETS: { id: PresetId; label: string; title: string }[] = [
  { id: 'workbench', label: 'Workbench', title: 'Any ONNX model on one volume' },
  { id: 'motors', label: 'Flagellar motors', title: 'Cryo-ET flagellar motor detection (BYU 2025 pipeline): tomogram batches in, submission.csv out' },
];

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
          onClick={() => {
            switchPreset('workbench');
            void loadDemo();
          }}
          disabled={busy}
          data-testid="try-demo"
          title="MeshNet brain tissue segmentation on a T1 scan"
        >
          Try the demo
        </button>
        <button onClick={openMotorsDemo} data-testid="motors-demo" title="Simulated tomograms, a small motor heatmap model and labels: runs the flagellar motor preset">
          Flagellar motors demo
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
